import { access } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { z } from "zod";
import { writeFileAtomic } from "../../../datastore/atomic-file.js";
import { CLIENT_LOG_BLOB_NAME } from "../../../datastore/manifest-file.js";
import type { SnapshotReader } from "../../../datastore/snapshot-reader.js";
import { decodeBlob, MAX_UPLOADED_BLOB_SIZE, verifyBlobCrc } from "../../../format/blob.js";
import { decodeChunk } from "../../../format/chunk.js";
import { DynamicIndexReader } from "../../../format/dynamic-index.js";
import { FixedIndexReader } from "../../../format/fixed-index.js";
import type { IndexReader } from "../../../format/index-file.js";
import { checkManifestFile, findManifestFile } from "../../../format/manifest.js";
import { RawAnswer } from "../../api/answer.js";
import { ApiError } from "../../api/api-errors.js";
import { defineRoute, type Route } from "../../api/route.js";
import { archiveName } from "../../api/schema-types.js";
import type { ServerServices } from "../services.js";
import { snapshotParams, snapshotRefOf, snapshotSchema } from "./params.js";
import { RULES, requireGroupAccess, routePermission } from "./store-access.js";

const fileParams = z.strictObject({ ...snapshotParams, "file-name": archiveName });

/** The plaintext of an index's data, chunk by chunk, closing the reader when done or abandoned. */
async function* decodedChunks(reader: SnapshotReader, index: IndexReader) {
  try {
    for (let i = 0; i < index.count; i++) {
      const digest = index.digest(i);
      const range = index.chunkRange(i);
      const encoded = await reader.readChunk(digest.toString("hex"));
      yield decodeChunk(encoded, digest, { size: range.end - range.start });
    }
  } finally {
    reader.close();
  }
}

export function downloadRoutes(services: ServerServices): Route[] {
  const { datastores } = services;
  /** A shared-locked reader of the snapshot, after the caller's access is checked. */
  const openReader = async (
    params: z.infer<typeof snapshotSchema>,
    auth: Parameters<Route["handler"]>[0]["auth"],
    rule: (typeof RULES)[keyof typeof RULES],
  ) => {
    const { store } = await datastores.open(params.store);
    const ref = snapshotRefOf(params);
    await requireGroupAccess(
      services,
      auth,
      { storeName: params.store, store, ns: ref.ns, type: ref.type, id: ref.id },
      rule,
    );
    return { store, ref, reader: await store.openReader(ref) };
  };

  return [
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/download",
      description: "Download one file of a snapshot as stored (blob or index).",
      parameters: fileParams,
      permission: routePermission(RULES.download),
      handler: async ({ params, auth }) => {
        const { reader } = await openReader(params, auth, RULES.download);
        try {
          const bytes = await reader.readFile(params["file-name"]);
          return new RawAnswer(bytes, { filename: params["file-name"] });
        } finally {
          reader.close();
        }
      },
    }),
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/download-decoded",
      description:
        "Download one file of a snapshot decoded: a blob's content, or the data an index describes (unencrypted files only).",
      parameters: fileParams,
      permission: routePermission(RULES.download),
      handler: async ({ params, auth }) => {
        const name = params["file-name"];
        const { reader } = await openReader(params, auth, RULES.download);
        let streaming = false;
        try {
          if (findManifestFile(reader.manifest, name)?.cryptMode === "encrypt") {
            throw new ApiError(
              "bad-request",
              `${name} is encrypted: download it raw and decode it with the key`,
            );
          }
          const bytes = await reader.readFile(name);
          const filename = name.replace(/\.(blob|didx|fidx)$/, "");
          if (name.endsWith(".blob")) return new RawAnswer(decodeBlob(bytes), { filename });
          const index: IndexReader = name.endsWith(".didx")
            ? DynamicIndexReader.parse(bytes)
            : FixedIndexReader.parse(bytes);
          checkManifestFile(reader.manifest, name, {
            csum: index.computeCsum().csum,
            size: index.size,
          });
          streaming = true;
          return new RawAnswer(Readable.from(decodedChunks(reader, index)), {
            filename,
            length: index.size,
          });
        } finally {
          if (!streaming) reader.close();
        }
      },
    }),
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/upload-backup-log",
      description:
        "Add the client's log (an encoded blob as the request body) to a snapshot as client.log.blob; only the group's owner, once.",
      parameters: snapshotSchema,
      permission: routePermission(RULES.backup),
      rawBody: { maxBytes: MAX_UPLOADED_BLOB_SIZE },
      handler: async ({ params, auth, body }) => {
        const { store } = await datastores.open(params.store);
        const ref = snapshotRefOf(params);
        await requireGroupAccess(
          services,
          auth,
          { storeName: params.store, store, ns: ref.ns, type: ref.type, id: ref.id },
          RULES.backup,
        );
        verifyBlobCrc(body ?? Buffer.alloc(0));
        const lock = await store.lockSnapshot(ref, "shared", "upload the client log");
        try {
          await store.snapshotInfo(ref);
          const path = join(store.snapshotDir(ref), CLIENT_LOG_BLOB_NAME);
          const present = await access(path).then(
            () => true,
            () => false,
          );
          if (present) throw new ApiError("conflict", "the snapshot already contains a client log");
          await writeFileAtomic(path, body!, { fsync: store.fsyncMetadata });
        } finally {
          lock.release();
        }
        return null;
      },
    }),
  ];
}
