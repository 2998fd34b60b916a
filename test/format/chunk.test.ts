import { createCipheriv, createHash } from "node:crypto";
import test from "ava";
import { readBlobHeader } from "../../appliance/format/blob.js";
import {
  chunkDigest,
  DIGEST_LENGTH,
  decodeChunk,
  encodeChunk,
  MAX_CHUNK_SIZE,
  MAX_ENCODED_CHUNK_SIZE,
  MIN_ENCODED_CHUNK_SIZE,
} from "../../appliance/format/chunk.js";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import { identifyMagic } from "../../appliance/format/magic.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors();
const rawKey = Buffer.from(vectors.upstream_asserted.key_fingerprint.raw_key_hex, "hex");
const crypt = new CryptConfig(rawKey);
const otherKey = new CryptConfig(Buffer.alloc(32, 0xee));
const MiB = 1024 * 1024;
const HELLO = Buffer.from("hello");

function noise(length: number, seed = 2): Buffer {
  return createCipheriv("aes-256-ctr", Buffer.alloc(32, seed), Buffer.alloc(16)).update(
    Buffer.alloc(length),
  );
}

const text = Buffer.from("a line of text that repeats, as text in backups does\n".repeat(5000));

test("plain and keyed digests of 'hello' match the derived vectors", (t) => {
  t.is(chunkDigest(HELLO).toString("hex"), vectors.derived["plain_chunk_digest('hello')"]);
  t.is(
    chunkDigest(HELLO, crypt).toString("hex"),
    vectors.derived["encrypted_chunk_digest('hello', raw_key=00..1f)"],
  );
});

test("the keyed digest is SHA-256 of the data followed by the id key", (t) => {
  const expected = createHash("sha256").update(text).update(crypt.idKey).digest();
  t.deepEqual(chunkDigest(text, crypt), expected);
  t.is(expected.length, DIGEST_LENGTH);
});

for (const encrypted of [false, true]) {
  for (const compress of [true, false]) {
    for (const [name, data] of [
      ["text", text],
      ["noise", noise(100_000)],
    ] as const) {
      test(`chunk round trip: ${name}, ${encrypted ? "encrypted" : "plain"}, compression ${compress ? "on" : "off"}`, (t) => {
        const key = encrypted ? crypt : undefined;
        const { digest, encoded } = encodeChunk(data, { crypt: key, compress });
        t.deepEqual(digest, chunkDigest(data, key));
        t.is(readBlobHeader(encoded).cryptMode, encrypted ? "encrypt" : "none");
        t.deepEqual(decodeChunk(encoded, digest, { crypt: key, size: data.length }), data);
      });
    }
  }
}

test("the digest names the plaintext, whatever the encoding", (t) => {
  const packed = encodeChunk(text);
  const raw = encodeChunk(text, { compress: false });
  t.is(identifyMagic(packed.encoded), "compressedBlob");
  t.is(identifyMagic(raw.encoded), "uncompressedBlob");
  t.deepEqual(packed.digest, raw.digest);
  t.deepEqual(decodeChunk(raw.encoded, packed.digest), text);
});

test("a chunk that is not the one asked for is refused, naming both digests", (t) => {
  const { encoded } = encodeChunk(text);
  const asked = chunkDigest(HELLO);
  const error = t.throws(() => decodeChunk(encoded, asked), {
    code: "CAIRN_E_FORMAT_DIGEST_MISMATCH",
  });
  t.true(error?.message.includes(asked.toString("hex")));
  t.true(error?.message.includes(chunkDigest(text).toString("hex")));
});

test("an encrypted chunk is checked against the keyed digest, a plain one against SHA-256", (t) => {
  const sealed = encodeChunk(text, { crypt });
  t.throws(() => decodeChunk(sealed.encoded, chunkDigest(text), { crypt }), {
    code: "CAIRN_E_FORMAT_DIGEST_MISMATCH",
  });
  // A store may hold both kinds: a key passed for a plain chunk does not key its digest.
  const plain = encodeChunk(text);
  t.deepEqual(decodeChunk(plain.encoded, chunkDigest(text), { crypt }), text);
});

test("an encrypted chunk needs its key", (t) => {
  const { digest, encoded } = encodeChunk(text, { crypt });
  t.throws(() => decodeChunk(encoded, digest), { code: "CAIRN_E_FORMAT_BAD_KEY" });
  t.throws(() => decodeChunk(encoded, digest, { crypt: otherKey }), {
    code: "CAIRN_E_FORMAT_AUTH_FAILED",
  });
});

test("the announced size is checked and bounds decompression", (t) => {
  const { digest, encoded } = encodeChunk(text);
  t.throws(() => decodeChunk(encoded, digest, { size: text.length + 1 }), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
  });
  t.throws(() => decodeChunk(encoded, digest, { size: 1000 }), {
    code: "CAIRN_E_FORMAT_OVERSIZE",
  });
});

test("chunks are 1 byte to 16 MiB; a full encrypted chunk fits the encoded-size cap exactly", (t) => {
  t.throws(() => encodeChunk(Buffer.alloc(0)), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  t.throws(() => encodeChunk(Buffer.alloc(MAX_CHUNK_SIZE + 1)), {
    code: "CAIRN_E_FORMAT_OVERSIZE",
  });
  const smallest = encodeChunk(Buffer.from([7]));
  t.is(smallest.encoded.length, MIN_ENCODED_CHUNK_SIZE);
  const full = noise(MAX_CHUNK_SIZE);
  const { digest, encoded } = encodeChunk(full, { crypt });
  t.is(MAX_ENCODED_CHUNK_SIZE, 16 * MiB + 44);
  t.is(encoded.length, MAX_ENCODED_CHUNK_SIZE);
  t.true(decodeChunk(encoded, digest, { crypt }).equals(full));
});

test("a damaged chunk is refused before its digest is computed", (t) => {
  const { digest, encoded } = encodeChunk(text);
  encoded[encoded.length - 1]! ^= 0x40;
  t.throws(() => decodeChunk(encoded, digest), { code: "CAIRN_E_FORMAT_CRC_MISMATCH" });
});
