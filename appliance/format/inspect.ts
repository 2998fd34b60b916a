import { createHash } from "node:crypto";
import { decodeBlob, readBlobHeader } from "./blob.js";
import { decodeChunk } from "./chunk.js";
import type { CryptConfig } from "./crypt-config.js";
import { DynamicIndexReader } from "./dynamic-index.js";
import { FixedIndexReader } from "./fixed-index.js";
import type { IndexReader } from "./index-file.js";
import { identifyMagic } from "./magic.js";
import { parseManifest, verifyManifest } from "./manifest.js";

export type InspectedKind =
  | "blob"
  | "chunk"
  | "manifest"
  | "fixed-index"
  | "dynamic-index"
  | "catalog";

/** One check and its outcome; `detail` says what was compared or why it failed. */
export interface InspectCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface InspectReport {
  kind: InspectedKind;
  fields: Record<string, string | number | boolean>;
  checks: InspectCheck[];
  /** True when every check passed. */
  ok: boolean;
}

export interface InspectOptions {
  /** The file's base name: a 64-hex name marks a chunk, `index.json.blob` a manifest. */
  fileName?: string;
  crypt?: CryptConfig;
}

const DIGEST_NAME = /^[0-9a-f]{64}$/;

/**
 * Recognises a PBS file by its magic and runs every check its kind allows: CRC, decoding, digest for
 * chunks, index checksum, manifest signature when a key is given. Never throws on bad content.
 */
export function inspectBytes(bytes: Buffer, options: InspectOptions = {}): InspectReport {
  const magic = identifyMagic(bytes);
  if (magic === "fixedIndex")
    return inspectIndex("fixed-index", () => FixedIndexReader.parse(bytes));
  if (magic === "dynamicIndex")
    return inspectIndex("dynamic-index", () => DynamicIndexReader.parse(bytes));
  if (magic === "catalog") return finish("catalog", { size: bytes.length }, []);
  if (magic === undefined) {
    return finish("blob", {}, [
      { name: "magic", ok: false, detail: "no known magic number in the first 8 bytes" },
    ]);
  }
  return inspectBlob(bytes, options);
}

function inspectIndex(
  kind: "fixed-index" | "dynamic-index",
  parse: () => IndexReader,
): InspectReport {
  let reader: IndexReader;
  try {
    reader = parse();
  } catch (err) {
    return finish(kind, {}, [{ name: "layout", ok: false, detail: errorText(err) }]);
  }
  const fields: InspectReport["fields"] = {
    uuid: reader.uuid.toString("hex"),
    ctime: new Date(reader.ctime * 1000).toISOString(),
    size: reader.size,
    chunks: reader.count,
    csum: reader.csum.toString("hex"),
  };
  if (reader instanceof FixedIndexReader) fields["chunk-size"] = reader.chunkSize;
  const computed = reader.computeCsum().csum;
  return finish(kind, fields, [
    { name: "layout", ok: true, detail: "header and entry table are consistent" },
    {
      name: "index checksum",
      ok: computed.equals(reader.csum),
      detail: computed.equals(reader.csum)
        ? "matches the entries"
        : `stored ${reader.csum.toString("hex")}, computed ${computed.toString("hex")}`,
    },
  ]);
}

function inspectBlob(bytes: Buffer, options: InspectOptions): InspectReport {
  const header = readBlobHeader(bytes);
  const fields: InspectReport["fields"] = {
    "blob-kind": header.kind,
    "crypt-mode": header.cryptMode,
    compressed: header.compressed,
    "encoded-size": bytes.length,
    crc: header.crc.toString(16).padStart(8, "0"),
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
  if (header.iv) fields.iv = header.iv.toString("hex");
  if (header.tag) fields.tag = header.tag.toString("hex");
  const checks: InspectCheck[] = [
    {
      name: "crc",
      ok: header.crcOk,
      detail: header.crcOk
        ? "matches the payload"
        : `stored ${fields.crc}, computed ${header.computedCrc.toString(16).padStart(8, "0")}`,
    },
  ];
  if (!header.crcOk) return finish(kindOfName(options.fileName), fields, checks);
  if (header.cryptMode === "encrypt" && !options.crypt) {
    return finish(kindOfName(options.fileName), fields, checks);
  }

  const name = options.fileName ?? "";
  let data: Buffer;
  try {
    data = DIGEST_NAME.test(name)
      ? decodeChunk(bytes, Buffer.from(name, "hex"), { crypt: options.crypt })
      : decodeBlob(bytes, { crypt: options.crypt });
  } catch (err) {
    checks.push({
      name: DIGEST_NAME.test(name) ? "decode and digest" : "decode",
      ok: false,
      detail: errorText(err),
    });
    return finish(kindOfName(name), fields, checks);
  }
  fields["data-size"] = data.length;
  checks.push({
    name: DIGEST_NAME.test(name) ? "decode and digest" : "decode",
    ok: true,
    detail: DIGEST_NAME.test(name) ? "data matches the digest in the file name" : "decoded",
  });
  if (name === "index.json.blob" || looksLikeManifest(data)) {
    return inspectManifest(data, fields, checks, options.crypt);
  }
  return finish(kindOfName(name), fields, checks);
}

function inspectManifest(
  data: Buffer,
  fields: InspectReport["fields"],
  checks: InspectCheck[],
  crypt: CryptConfig | undefined,
): InspectReport {
  try {
    const manifest = parseManifest(data);
    fields["backup-type"] = manifest.backupType;
    fields["backup-id"] = manifest.backupId;
    fields["backup-time"] = new Date(manifest.backupTime * 1000)
      .toISOString()
      .replace(".000Z", "Z");
    fields.files = manifest.files
      .map((f) => `${f.filename} (${f.cryptMode}, ${f.size} bytes)`)
      .join(", ");
    fields.signed = manifest.signature !== null;
    const fingerprint = manifest.unprotected["key-fingerprint"];
    if (typeof fingerprint === "string") fields["key-fingerprint"] = fingerprint;
    checks.push({ name: "manifest", ok: true, detail: "parses as a backup manifest" });
    if (crypt) {
      try {
        const result = verifyManifest(manifest, crypt);
        checks.push({
          name: "signature",
          ok: true,
          detail: result === "verified" ? "valid" : "unsigned",
        });
      } catch (err) {
        checks.push({ name: "signature", ok: false, detail: errorText(err) });
      }
    }
  } catch (err) {
    checks.push({ name: "manifest", ok: false, detail: errorText(err) });
  }
  return finish("manifest", fields, checks);
}

function looksLikeManifest(data: Buffer): boolean {
  return (
    data.length < 16 * 1024 * 1024 &&
    data.subarray(0, 64).toString("utf8").includes('"backup-type"')
  );
}

function kindOfName(name: string | undefined): InspectedKind {
  if (name === "index.json.blob") return "manifest";
  return name && DIGEST_NAME.test(name) ? "chunk" : "blob";
}

function finish(
  kind: InspectedKind,
  fields: InspectReport["fields"],
  checks: InspectCheck[],
): InspectReport {
  return { kind, fields, checks, ok: checks.every((c) => c.ok) };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
