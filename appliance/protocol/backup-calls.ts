import { z } from "zod";
import { MAX_UPLOADED_BLOB_SIZE, MIN_UPLOADED_BLOB_SIZE } from "../format/blob.js";
import { MAX_CHUNK_SIZE, MAX_ENCODED_CHUNK_SIZE, MIN_ENCODED_CHUNK_SIZE } from "../format/chunk.js";
import type { BackupSession } from "./backup-session.js";
import { fileName, sha256Hex, wholeNumber } from "./call-params.js";
import { bytes, type CallDefinition, defineCall, json } from "./call-table.js";
import type { IndexKind } from "./session-index.js";

/** The calls of a backup session (pbs-formats.md §8, "Calls inside a backup session"). */

/** Writer ids run from 1 to 256, as PBS's `wid` schema allows. */
export const MAX_WRITERS = 256;
const wid = wholeNumber(1, MAX_WRITERS);
/** A list from a JSON body, or a single value from a query string. */
const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(item));

const noParameters = z.strictObject({});

function chunkUpload(kind: IndexKind) {
  return defineCall({
    method: "POST",
    path: `/${kind}_chunk`,
    parameters: z.strictObject({
      wid,
      digest: sha256Hex,
      size: wholeNumber(1, MAX_CHUNK_SIZE),
      "encoded-size": wholeNumber(MIN_ENCODED_CHUNK_SIZE, MAX_ENCODED_CHUNK_SIZE),
    }),
    body: { kind: "upload", size: (params) => params["encoded-size"] },
    precheck: (session: BackupSession, params) =>
      session.checkChunkUpload(kind, params.wid, params.size),
    run: async (session, params, body) =>
      json(await session.uploadChunk(kind, params.wid, params.digest, params.size, body)),
  });
}

function indexAppend(kind: IndexKind) {
  return defineCall({
    method: "PUT",
    path: `/${kind}_index`,
    parameters: z.strictObject({
      wid,
      "digest-list": listOf(sha256Hex),
      "offset-list": listOf(wholeNumber(0)),
    }),
    body: { kind: "parameters" },
    run: async (session: BackupSession, params) => {
      await session.append(kind, params.wid, params["digest-list"], params["offset-list"]);
      return json(null);
    },
  });
}

function indexClose(kind: IndexKind) {
  return defineCall({
    method: "POST",
    path: `/${kind}_close`,
    parameters: z.strictObject({
      wid,
      "chunk-count": wholeNumber(0),
      size: wholeNumber(0),
      csum: sha256Hex,
    }),
    body: { kind: "parameters" },
    run: async (session: BackupSession, params) => {
      await session.closeIndex(kind, params.wid, {
        chunkCount: params["chunk-count"],
        size: params.size,
        csum: params.csum,
      });
      return json(null);
    },
  });
}

export const BACKUP_CALLS: readonly CallDefinition<BackupSession>[] = [
  defineCall({
    method: "GET",
    path: "/previous_backup_time",
    parameters: noParameters,
    body: { kind: "parameters" },
    run: (session: BackupSession) => json(session.previousBackupTime()),
  }),
  defineCall({
    method: "GET",
    path: "/previous",
    parameters: z.strictObject({ "archive-name": fileName("fidx", "didx", "blob") }),
    body: { kind: "parameters" },
    run: async (session: BackupSession, params) =>
      bytes(await session.previous(params["archive-name"])),
  }),
  defineCall({
    method: "POST",
    path: "/blob",
    parameters: z.strictObject({
      "file-name": fileName("blob"),
      "encoded-size": wholeNumber(MIN_UPLOADED_BLOB_SIZE, MAX_UPLOADED_BLOB_SIZE),
    }),
    body: { kind: "upload", size: (params) => params["encoded-size"] },
    run: async (session: BackupSession, params, body) => {
      await session.uploadBlob(params["file-name"], body);
      return json(null);
    },
  }),
  defineCall({
    method: "POST",
    path: "/fixed_index",
    parameters: z.strictObject({
      "archive-name": fileName("fidx"),
      size: wholeNumber(1),
      "reuse-csum": sha256Hex.optional(),
    }),
    body: { kind: "parameters" },
    run: async (session: BackupSession, params) =>
      json(
        await session.createFixedIndex(params["archive-name"], params.size, params["reuse-csum"]),
      ),
  }),
  defineCall({
    method: "POST",
    path: "/dynamic_index",
    parameters: z.strictObject({ "archive-name": fileName("didx") }),
    body: { kind: "parameters" },
    run: async (session: BackupSession, params) =>
      json(await session.createDynamicIndex(params["archive-name"])),
  }),
  chunkUpload("fixed"),
  chunkUpload("dynamic"),
  indexAppend("fixed"),
  indexAppend("dynamic"),
  indexClose("fixed"),
  indexClose("dynamic"),
  defineCall({
    method: "POST",
    path: "/finish",
    parameters: noParameters,
    body: { kind: "parameters" },
    run: async (session: BackupSession) => {
      await session.finish();
      return json(null);
    },
  }),
  defineCall({
    method: "POST",
    path: "/speedtest",
    parameters: noParameters,
    body: { kind: "discard" },
    run: () => json(null),
  }),
];
