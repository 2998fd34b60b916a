import { createCipheriv } from "node:crypto";
import { crc32 } from "node:zlib";
import test from "ava";
import { Compressor, compress } from "zstd-napi";
import {
  type BlobKind,
  decodeBlob,
  ENCRYPTED_HEADER_SIZE,
  encodeBlob,
  MAX_BLOB_SIZE,
  readBlobHeader,
  UNENCRYPTED_HEADER_SIZE,
  verifyBlobCrc,
} from "../../appliance/format/blob.js";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import type { FormatErrorKind } from "../../appliance/format/errors.js";
import { identifyMagic, MAGIC } from "../../appliance/format/magic.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors();
const rawKey = Buffer.from(vectors.upstream_asserted.key_fingerprint.raw_key_hex, "hex");
const crypt = new CryptConfig(rawKey);
const otherKey = new CryptConfig(Buffer.alloc(32, 0xee));
const MiB = 1024 * 1024;

/** Deterministic incompressible bytes: an AES-CTR keystream. */
function noise(length: number, seed = 1): Buffer {
  return createCipheriv("aes-256-ctr", Buffer.alloc(32, seed), Buffer.alloc(16)).update(
    Buffer.alloc(length),
  );
}

/** Deterministic compressible bytes: numbered log lines. */
function logLines(length: number): Buffer {
  const lines: string[] = [];
  let total = 0;
  for (let i = 0; total < length; i++) {
    const line = `2024-06-05T10:00:${String(i % 60).padStart(2, "0")} backup chunk ${i} stored\n`;
    lines.push(line);
    total += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, length);
}

/** Builds a blob by hand, independently of the encoder, for inputs the encoder never writes. */
function assembleBlob(magic: Buffer, payload: Buffer, iv?: Buffer, tag?: Buffer): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(payload));
  return Buffer.concat([magic, crc, ...(iv && tag ? [iv, tag] : []), payload]);
}

/** Recomputes the CRC after a deliberate change, so that only the later checks can catch it. */
function fixCrc(blob: Buffer): Buffer {
  const headerSize = readBlobHeader(blob).headerSize;
  blob.writeUInt32LE(crc32(blob.subarray(headerSize)), 8);
  return blob;
}

function kindOfError(run: () => unknown): FormatErrorKind | "no error" | "not a FormatError" {
  try {
    run();
    return "no error";
  } catch (err) {
    return (err as { kind?: FormatErrorKind }).kind ?? "not a FormatError";
  }
}

const HELLO = Buffer.from("hello");

test("an uncompressed blob of 'hello' matches the derived vector byte for byte", (t) => {
  const blob = encodeBlob(HELLO);
  t.is(blob.toString("hex"), vectors.derived["uncompressed_blob('hello')"]);
  t.deepEqual(decodeBlob(blob), HELLO);
});

test("an encrypted blob of 'hello' with key 00..1f and a zero IV matches the derived vector", (t) => {
  const blob = encodeBlob(HELLO, { crypt, iv: Buffer.alloc(16) });
  const expected =
    vectors.derived["encrypted_uncompressed_blob('hello', raw_key=00..1f, iv=00*16)"];
  t.is(blob.toString("hex"), expected);
  t.deepEqual(decodeBlob(Buffer.from(expected, "hex"), { crypt }), HELLO);
});

test("the header reader reports the layout of the vector blobs", (t) => {
  const plain = readBlobHeader(Buffer.from(vectors.derived["uncompressed_blob('hello')"], "hex"));
  t.like(plain, {
    kind: "uncompressedBlob",
    cryptMode: "none",
    compressed: false,
    headerSize: 12,
    crc: 0x3610a686,
    crcOk: true,
    payloadLength: 5,
  });
  t.is(plain.iv, undefined);
  const encrypted = readBlobHeader(encodeBlob(HELLO, { crypt, iv: Buffer.alloc(16, 0xab) }));
  t.like(encrypted, {
    kind: "encryptedBlob",
    cryptMode: "encrypt",
    headerSize: 44,
    crcOk: true,
    payloadLength: 5,
  });
  t.deepEqual(encrypted.iv, Buffer.alloc(16, 0xab));
  t.is(encrypted.tag?.length, 16);
});

const datasets: [string, Buffer, boolean][] = [
  ["empty", Buffer.alloc(0), false],
  ["'hello'", HELLO, false],
  ["1 MiB of log lines", logLines(MiB), true],
  ["1 MiB of noise", noise(MiB), false],
  ["a 16 MiB chunk of log lines", logLines(16 * MiB), true],
  ["a 16 MiB chunk of noise", noise(16 * MiB), false],
];

for (const [name, data, compressible] of datasets) {
  for (const encrypted of [false, true]) {
    for (const tryCompress of [true, false]) {
      const compressed = tryCompress && compressible;
      const expectedKind: BlobKind = encrypted
        ? compressed
          ? "encryptedCompressedBlob"
          : "encryptedBlob"
        : compressed
          ? "compressedBlob"
          : "uncompressedBlob";
      const title = `${name}, ${encrypted ? "encrypted" : "plain"}, compression ${tryCompress ? "on" : "off"}`;
      test(`round trip: ${title} → ${expectedKind}`, (t) => {
        const blob = encodeBlob(data, {
          crypt: encrypted ? crypt : undefined,
          compress: tryCompress,
        });
        t.is(identifyMagic(blob), expectedKind);
        const headerSize = encrypted ? ENCRYPTED_HEADER_SIZE : UNENCRYPTED_HEADER_SIZE;
        if (compressed) t.true(blob.length < headerSize + data.length / 4);
        else t.is(blob.length, headerSize + data.length);
        t.true(verifyBlobCrc(blob).crcOk);
        t.true(decodeBlob(blob, { crypt }).equals(data));
      });
    }
  }
}

test("compression is kept only when the frame is strictly shorter than the data", (t) => {
  // 17 zero bytes compress to a 17-byte frame (equal: stored raw); 18 to 17 bytes (kept).
  t.is(compress(Buffer.alloc(17), { compressionLevel: 1 }).length, 17);
  t.is(identifyMagic(encodeBlob(Buffer.alloc(17))), "uncompressedBlob");
  t.is(identifyMagic(encodeBlob(Buffer.alloc(17), { crypt })), "encryptedBlob");
  t.is(identifyMagic(encodeBlob(Buffer.alloc(18))), "compressedBlob");
  t.is(identifyMagic(encodeBlob(Buffer.alloc(18), { crypt })), "encryptedCompressedBlob");
  for (let length = 0; length <= 300; length += 7) {
    for (const data of [Buffer.alloc(length, 0x61), logLines(length), noise(length)]) {
      const frame = compress(data, { compressionLevel: 1 });
      const smaller = frame.length < data.length;
      const plain = encodeBlob(data);
      t.is(plain.length, 12 + Math.min(frame.length, data.length));
      t.is(identifyMagic(plain), smaller ? "compressedBlob" : "uncompressedBlob");
      const sealed = encodeBlob(data, { crypt });
      t.is(identifyMagic(sealed), smaller ? "encryptedCompressedBlob" : "encryptedBlob");
    }
  }
});

test("an encrypted blob is compressed before it is encrypted", (t) => {
  const data = logLines(100_000);
  const iv = Buffer.alloc(16, 3);
  const sealed = encodeBlob(data, { crypt, iv });
  const frame = crypt.decrypt(sealed.subarray(44), iv, sealed.subarray(28, 44));
  t.deepEqual(frame.subarray(0, 4), Buffer.from("28b52ffd", "hex"));
  t.deepEqual(decodeBlob(assembleBlob(MAGIC.compressedBlob, frame)), data);
});

test("two encodings of the same data use different random IVs", (t) => {
  const first = readBlobHeader(encodeBlob(HELLO, { crypt }));
  const second = readBlobHeader(encodeBlob(HELLO, { crypt }));
  t.notDeepEqual(first.iv, second.iv);
});

test("a compressed-magic blob that did not shrink is still accepted (streaming writer)", (t) => {
  const data = noise(4096);
  const streaming = new Compressor();
  streaming.setParameters({ compressionLevel: 1, contentSizeFlag: false });
  const frame = streaming.compress(data);
  t.true(frame.length > data.length);
  t.deepEqual(decodeBlob(assembleBlob(MAGIC.compressedBlob, frame)), data);
  const { iv, tag, ciphertext } = crypt.encrypt(frame);
  const sealed = assembleBlob(MAGIC.encryptedCompressedBlob, ciphertext, iv, tag);
  t.deepEqual(decodeBlob(sealed, { crypt }), data);
});

test("frames without a stated size and several frames in a row decode whole", (t) => {
  const first = logLines(3 * MiB);
  const second = noise(300_000);
  const streaming = new Compressor();
  streaming.setParameters({ compressionLevel: 1, contentSizeFlag: false });
  const payload = Buffer.concat([streaming.compress(first), compress(second)]);
  const decoded = decodeBlob(assembleBlob(MAGIC.compressedBlob, payload));
  t.true(decoded.equals(Buffer.concat([first, second])));
});

const corruptible: [BlobKind, Buffer][] = [
  ["uncompressedBlob", encodeBlob(noise(2000))],
  ["compressedBlob", encodeBlob(logLines(20_000))],
  ["encryptedBlob", encodeBlob(noise(2000), { crypt })],
  ["encryptedCompressedBlob", encodeBlob(logLines(20_000), { crypt })],
];

/** Which check must catch a flipped bit at `offset`: the IV and tag are outside the CRC. */
function expectedCatch(offset: number, headerSize: number): FormatErrorKind {
  if (offset < 8) return "bad-magic";
  if (offset < 12) return "crc-mismatch";
  if (offset < headerSize) return "auth-failed";
  return "crc-mismatch";
}

for (const [kind, blob] of corruptible) {
  test(`${kind}: a flipped bit in magic, CRC, IV, tag or payload is caught by the right check`, (t) => {
    t.is(identifyMagic(blob), kind);
    const headerSize = readBlobHeader(blob).headerSize;
    const offsets = [...Array(headerSize).keys()];
    for (let at = headerSize; at < blob.length; at += 61) offsets.push(at);
    offsets.push(blob.length - 1);
    for (const offset of offsets) {
      for (const bit of [0, 3, 7]) {
        const damaged = Buffer.from(blob);
        damaged[offset]! ^= 1 << bit;
        const caught = kindOfError(() => decodeBlob(damaged, { crypt }));
        if (caught !== expectedCatch(offset, headerSize)) {
          t.fail(`bit ${bit} of byte ${offset}: ${caught}`);
          return;
        }
      }
    }
    t.pass();
  });

  test(`${kind}: every truncation is refused`, (t) => {
    const headerSize = readBlobHeader(blob).headerSize;
    for (let length = 0; length < blob.length; length++) {
      const caught = kindOfError(() => decodeBlob(blob.subarray(0, length), { crypt }));
      const expected = length < headerSize ? "truncated" : "crc-mismatch";
      if (caught !== expected) {
        t.fail(`truncated to ${length} bytes: ${caught}`);
        return;
      }
    }
    t.pass();
  });
}

test("the GCM tag catches ciphertext changes that keep the CRC valid", (t) => {
  for (const [, blob] of corruptible.slice(2)) {
    const damaged = Buffer.from(blob);
    damaged[damaged.length - 10]! ^= 0x10;
    t.is(
      kindOfError(() => decodeBlob(fixCrc(damaged), { crypt })),
      "auth-failed",
    );
    const shortened = fixCrc(Buffer.from(blob.subarray(0, blob.length - 1)));
    t.is(
      kindOfError(() => decodeBlob(shortened, { crypt })),
      "auth-failed",
    );
  }
});

test("a cut or garbled compressed payload with a valid CRC is refused", (t) => {
  const [, blob] = corruptible[1]!;
  const cut = fixCrc(Buffer.from(blob.subarray(0, blob.length - 5)));
  t.is(
    kindOfError(() => decodeBlob(cut)),
    "truncated",
  );
  const garbled = Buffer.from(blob);
  garbled.fill(0xff, 20, 40);
  t.is(
    kindOfError(() => decodeBlob(fixCrc(garbled))),
    "bad-layout",
  );
  const streaming = new Compressor();
  streaming.setParameters({ compressionLevel: 1, contentSizeFlag: false });
  const frame = streaming.compress(logLines(20_000));
  const cutStream = assembleBlob(MAGIC.compressedBlob, frame.subarray(0, frame.length - 5));
  t.is(
    kindOfError(() => decodeBlob(cutStream)),
    "truncated",
  );
});

test("the CRC check needs no key and rejects a damaged encrypted blob", (t) => {
  const sealed = encodeBlob(logLines(5000), { crypt });
  t.like(verifyBlobCrc(sealed), { cryptMode: "encrypt", crcOk: true });
  const damaged = Buffer.from(sealed);
  damaged[50]! ^= 1;
  t.like(readBlobHeader(damaged), { crcOk: false });
  const error = t.throws(() => verifyBlobCrc(damaged), { code: "CAIRN_E_FORMAT_CRC_MISMATCH" });
  t.regex(error?.message ?? "", /stored [0-9a-f]{8}, computed [0-9a-f]{8}/);
});

test("an encrypted blob without a key asks for one; the wrong key fails authentication", (t) => {
  for (const data of [noise(100), logLines(10_000)]) {
    const sealed = encodeBlob(data, { crypt });
    const error = t.throws(() => decodeBlob(sealed), { code: "CAIRN_E_FORMAT_BAD_KEY" });
    t.regex(error?.message ?? "", /key is needed/);
    t.throws(() => decodeBlob(sealed, { crypt: otherKey }), { code: "CAIRN_E_FORMAT_AUTH_FAILED" });
  }
});

test("bytes that are not a data blob are refused by their magic", (t) => {
  const index = Buffer.concat([MAGIC.fixedIndex, Buffer.alloc(100)]);
  t.throws(() => decodeBlob(index), { code: "CAIRN_E_FORMAT_BAD_MAGIC" });
  t.throws(() => readBlobHeader(Buffer.from("not a blob at all")), {
    code: "CAIRN_E_FORMAT_BAD_MAGIC",
  });
});

test("a fixed IV of the wrong length is refused", (t) => {
  t.throws(() => encodeBlob(HELLO, { crypt, iv: Buffer.alloc(12) }), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
});

test("the encoder takes up to MAX_BLOB_SIZE bytes and refuses one more", (t) => {
  t.is(MAX_BLOB_SIZE, 128 * MiB);
  const largest = Buffer.alloc(MAX_BLOB_SIZE);
  t.is(identifyMagic(encodeBlob(largest)), "compressedBlob");
  t.throws(() => encodeBlob(Buffer.alloc(MAX_BLOB_SIZE + 1)), { code: "CAIRN_E_FORMAT_OVERSIZE" });
});

test("decoding is bounded by maxSize for every kind, and exactly maxSize passes", (t) => {
  const data = logLines(100_000);
  for (const options of [{}, { crypt }, { compress: false }, { crypt, compress: false }]) {
    const blob = encodeBlob(data, options);
    t.is(decodeBlob(blob, { crypt, maxSize: data.length }).length, data.length);
    t.throws(() => decodeBlob(blob, { crypt, maxSize: data.length - 1 }), {
      code: "CAIRN_E_FORMAT_OVERSIZE",
    });
  }
});

/** A zstd frame header: no dictionary, no checksum, a 128 KiB window, optional stated size. */
function zstdFrameHeader(contentSize?: bigint, windowLog = 17): Buffer {
  const magic = Buffer.from("28b52ffd", "hex");
  const window = Buffer.from([(windowLog - 10) << 3]);
  if (contentSize === undefined) return Buffer.concat([magic, Buffer.from([0x00]), window]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(contentSize);
  return Buffer.concat([magic, Buffer.from([0xc0]), window, size]);
}

/** RLE blocks of 128 KiB each: 4 bytes of input per 128 KiB of output. */
function rleBlocks(count: number): Buffer {
  const blocks = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) {
    blocks.writeUIntLE(((128 * 1024) << 3) | (1 << 1) | (i === count - 1 ? 1 : 0), i * 4, 3);
    blocks[i * 4 + 3] = 0x5a;
  }
  return blocks;
}

test("the hand-built RLE frame is valid zstd", (t) => {
  const frame = Buffer.concat([zstdFrameHeader(), rleBlocks(3)]);
  t.deepEqual(
    decodeBlob(assembleBlob(MAGIC.compressedBlob, frame)),
    Buffer.alloc(384 * 1024, 0x5a),
  );
});

test("a zstd frame claiming 1 TiB is refused before anything is allocated", (t) => {
  const claim = Buffer.concat([zstdFrameHeader(1n << 40n), rleBlocks(1)]);
  const blob = assembleBlob(MAGIC.compressedBlob, claim);
  const error = t.throws(() => decodeBlob(blob), { code: "CAIRN_E_FORMAT_OVERSIZE" });
  t.is((error as unknown as { context: { declaredSize: number } }).context.declaredSize, 2 ** 40);
});

test("a 256 KiB zstd bomb expanding to 8 GiB is stopped at the bound", (t) => {
  const bomb = Buffer.concat([zstdFrameHeader(), rleBlocks(65536)]);
  t.true(bomb.length < 300 * 1024);
  const plain = assembleBlob(MAGIC.compressedBlob, bomb);
  t.throws(() => decodeBlob(plain, { maxSize: 16 * MiB }), { code: "CAIRN_E_FORMAT_OVERSIZE" });
  t.throws(() => decodeBlob(plain), { code: "CAIRN_E_FORMAT_OVERSIZE" });
  const { iv, tag, ciphertext } = crypt.encrypt(bomb);
  const sealed = assembleBlob(MAGIC.encryptedCompressedBlob, ciphertext, iv, tag);
  t.throws(() => decodeBlob(sealed, { crypt, maxSize: MiB }), { code: "CAIRN_E_FORMAT_OVERSIZE" });
});

test("a zstd frame asking for a 2 GiB window is refused", (t) => {
  const greedy = Buffer.concat([zstdFrameHeader(undefined, 31), rleBlocks(1)]);
  const blob = assembleBlob(MAGIC.compressedBlob, greedy);
  t.throws(() => decodeBlob(blob, { maxSize: 16 * MiB }), { code: "CAIRN_E_FORMAT_BAD_LAYOUT" });
});

test("an empty compressed payload decodes to empty data", (t) => {
  t.is(decodeBlob(assembleBlob(MAGIC.compressedBlob, Buffer.alloc(0))).length, 0);
});
