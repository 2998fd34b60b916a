import { scryptSync } from "node:crypto";
import test from "ava";
import { canonicalJson } from "../../appliance/format/canonical-json.js";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import {
  addManifestFile,
  archiveKind,
  checkManifestFile,
  findManifestFile,
  type Manifest,
  manifestSignedJson,
  manifestToJson,
  newManifest,
  parseManifest,
  signManifest,
  verifyManifest,
} from "../../appliance/format/manifest.js";
import { loadVectors } from "../helpers/vectors.js";

const vector = loadVectors().upstream_asserted.manifest_signature;

/** scrypt("test", empty salt, N=2^16, r=8, p=1), the key of PBS's manifest signature test. */
const testKey = scryptSync("test", Buffer.alloc(0), 32, {
  N: 65536,
  r: 8,
  p: 1,
  maxmem: 256 * 1024 * 1024,
});
const crypt = new CryptConfig(testKey);
const otherCrypt = new CryptConfig(Buffer.alloc(32, 9));

/** The manifest of PBS's test_manifest_signature: host/elsa/2020-06-26T13:56:05Z, two files. */
function upstreamManifest(): Manifest {
  let manifest = newManifest({ backupType: "host", backupId: "elsa", backupTime: 1593179765 });
  manifest = addManifestFile(manifest, {
    filename: "test1.img.fidx",
    size: 200,
    csum: Buffer.alloc(32, 1),
    cryptMode: "encrypt",
  });
  manifest = addManifestFile(manifest, {
    filename: "abc.blob",
    size: 200,
    csum: Buffer.alloc(32, 2),
    cryptMode: "none",
  });
  return {
    ...manifest,
    unprotected: { note: "This is not protected by the signature." },
  };
}

test("the upstream manifest signs to the PBS test vector", (t) => {
  t.is(testKey.toString("hex"), vector.derived_raw_key_hex);
  t.is(crypt.fingerprintText(), vector.key_fingerprint_of_that_key);
  t.is(manifestSignedJson(upstreamManifest()), vector.canonical_json_signed);

  const signed = signManifest(upstreamManifest(), crypt);
  t.is(signed.signature, vector.expected_signature);
  t.deepEqual(signed.unprotected, {
    note: "This is not protected by the signature.",
    "key-fingerprint": vector.key_fingerprint_of_that_key,
  });
  t.is(verifyManifest(signed, crypt), "verified");
});

test("manifest JSON is pretty-printed in PBS field order and parses back to the same value", (t) => {
  const signed = signManifest(upstreamManifest(), crypt);
  const text = manifestToJson(signed);
  const ones = "01".repeat(32);
  const twos = "02".repeat(32);
  t.is(
    text,
    `{
  "backup-type": "host",
  "backup-id": "elsa",
  "backup-time": 1593179765,
  "files": [
    {
      "filename": "test1.img.fidx",
      "crypt-mode": "encrypt",
      "size": 200,
      "csum": "${ones}"
    },
    {
      "filename": "abc.blob",
      "crypt-mode": "none",
      "size": 200,
      "csum": "${twos}"
    }
  ],
  "unprotected": {
    "note": "This is not protected by the signature.",
    "key-fingerprint": "${vector.key_fingerprint_of_that_key}"
  },
  "signature": "${vector.expected_signature}"
}`,
  );
  t.deepEqual(parseManifest(text), signed);
  t.deepEqual(parseManifest(Buffer.from(text)), signed);
  t.is(verifyManifest(parseManifest(text), crypt), "verified");
  t.regex(manifestToJson(upstreamManifest()), /"signature": null\n}$/);
});

test("changing unprotected keeps the signature valid; changing signed content breaks it", (t) => {
  const signed = signManifest(upstreamManifest(), crypt);
  const annotated: Manifest = {
    ...signed,
    unprotected: {
      ...signed.unprotected,
      notes: "changed later",
      verify_state: { state: "ok", upid: "UPID:x" },
    },
  };
  t.is(verifyManifest(annotated, crypt), "verified");

  const [fidx, blob] = signed.files as [Manifest["files"][0], Manifest["files"][0]];
  const tampered: Manifest[] = [
    { ...signed, files: [{ ...fidx, size: 201 }, blob] },
    { ...signed, files: [{ ...fidx, csum: "03".repeat(32) }, blob] },
    { ...signed, files: [{ ...fidx, cryptMode: "none" }, blob] },
    { ...signed, files: [{ ...fidx, filename: "test2.img.fidx" }, blob] },
    { ...signed, files: [blob, fidx] },
    { ...signed, files: [fidx] },
    { ...signed, backupTime: signed.backupTime + 1 },
    { ...signed, backupId: "anna" },
    { ...signed, backupType: "vm" },
  ];
  for (const manifest of tampered) {
    t.throws(() => verifyManifest(manifest, crypt), { code: "CAIRN_E_FORMAT_BAD_SIGNATURE" });
  }
});

test("a manifest made with another key is refused by fingerprint; unsigned ones are accepted", (t) => {
  const signed = signManifest(upstreamManifest(), crypt);
  t.throws(() => verifyManifest(signed, otherCrypt), {
    code: "CAIRN_E_FORMAT_BAD_SIGNATURE",
    message: /made with key 12:b9/,
  });
  const { "key-fingerprint": _, ...withoutFingerprint } = signed.unprotected;
  t.throws(() => verifyManifest({ ...signed, unprotected: withoutFingerprint }, otherCrypt), {
    code: "CAIRN_E_FORMAT_BAD_SIGNATURE",
    message: /signature does not match/,
  });
  t.is(verifyManifest(upstreamManifest(), otherCrypt), "unsigned");
  t.is(verifyManifest({ ...signed, signature: null }, crypt), "unsigned");
  t.throws(
    () => verifyManifest({ ...signed, unprotected: { "key-fingerprint": "12:b9" } }, crypt),
    {
      code: "CAIRN_E_FORMAT_BAD_MANIFEST",
    },
  );
});

test("defaults: crypt-mode none, unprotected {}, signature null", (t) => {
  const manifest = parseManifest(
    JSON.stringify({
      "backup-type": "vm",
      "backup-id": "100",
      "backup-time": 1,
      files: [{ filename: "drive-scsi0.img.fidx", size: 7, csum: "ab".repeat(32) }],
    }),
  );
  t.deepEqual(manifest, {
    backupType: "vm",
    backupId: "100",
    backupTime: 1,
    files: [
      { filename: "drive-scsi0.img.fidx", cryptMode: "none", size: 7, csum: "ab".repeat(32) },
    ],
    unprotected: {},
    signature: null,
  });
});

test("invalid manifests are refused with an error naming the field", (t) => {
  const valid = {
    "backup-type": "host",
    "backup-id": "elsa",
    "backup-time": 1593179765,
    files: [{ filename: "root.pxar.didx", "crypt-mode": "none", size: 1, csum: "00".repeat(32) }],
    unprotected: {},
    signature: null,
  };
  const file = valid.files[0]!;
  const cases: [string, unknown, RegExp][] = [
    ["missing backup-id", { ...valid, "backup-id": undefined }, /backup-id is missing/],
    ["bad backup-type", { ...valid, "backup-type": "vms" }, /backup-type must be one of/],
    ["bad backup-id", { ...valid, "backup-id": "a/b" }, /backup-id "a\/b"/],
    ["float backup-time", { ...valid, "backup-time": 1.5 }, /backup-time must be an integer/],
    ["files not array", { ...valid, files: {} }, /files must be an array/],
    ["slash", { ...valid, files: [{ ...file, filename: "a/b.blob" }] }, /files\[0\]\.filename/],
    ["extension", { ...valid, files: [{ ...file, filename: "x.txt" }] }, /files\[0\]\.filename/],
    ["bare extension", { ...valid, files: [{ ...file, filename: ".blob" }] }, /filename/],
    ["crypt-mode", { ...valid, files: [{ ...file, "crypt-mode": "x" }] }, /crypt-mode must be/],
    ["size", { ...valid, files: [{ ...file, size: -1 }] }, /files\[0\]\.size/],
    ["csum short", { ...valid, files: [{ ...file, csum: "0".repeat(63) }] }, /files\[0\]\.csum/],
    ["csum upper", { ...valid, files: [{ ...file, csum: "AB".repeat(32) }] }, /csum must be/],
    ["missing csum", { ...valid, files: [{ ...file, csum: undefined }] }, /csum is missing/],
    ["duplicate", { ...valid, files: [file, file] }, /lists root\.pxar\.didx twice/],
    ["file field", { ...valid, files: [{ ...file, extra: 1 }] }, /unknown field extra/],
    ["top field", { ...valid, comment: "x" }, /unknown field comment/],
    ["unprotected", { ...valid, unprotected: [] }, /unprotected must be an object/],
    ["signature", { ...valid, signature: "abc" }, /signature must be 64/],
    ["not an object", [], /manifest must be an object/],
  ];
  for (const [name, json, message] of cases) {
    t.throws(
      () => parseManifest(JSON.stringify(json)),
      { code: "CAIRN_E_FORMAT_BAD_MANIFEST", message },
      name,
    );
  }
  t.throws(() => parseManifest("{"), { code: "CAIRN_E_FORMAT_BAD_MANIFEST" });
  t.throws(() => parseManifest(Buffer.from([0x7b, 0xff, 0x7d])), {
    code: "CAIRN_E_FORMAT_BAD_MANIFEST",
  });
  t.notThrows(() => parseManifest(JSON.stringify(valid)));
});

test("adding, finding and checking file entries", (t) => {
  const signed = signManifest(upstreamManifest(), crypt);
  const added = addManifestFile(signed, {
    filename: "catalog.pcat1.didx",
    size: 4096,
    csum: "cd".repeat(32),
  });
  t.is(added.signature, null, "new content is unsigned until signed again");
  t.deepEqual(findManifestFile(added, "catalog.pcat1.didx"), {
    filename: "catalog.pcat1.didx",
    cryptMode: "none",
    size: 4096,
    csum: "cd".repeat(32),
  });
  t.is(findManifestFile(added, "missing.blob"), undefined);
  t.throws(() => addManifestFile(added, { filename: "abc.blob", size: 1, csum: "00".repeat(32) }), {
    code: "CAIRN_E_FORMAT_BAD_MANIFEST",
    message: /twice/,
  });
  t.throws(() => addManifestFile(added, { filename: "x.blob", size: 1, csum: Buffer.alloc(31) }), {
    code: "CAIRN_E_FORMAT_BAD_MANIFEST",
  });
  t.deepEqual(
    ["a.img.fidx", "a.pxar.didx", "index.json.blob", "a.conf", "dir/a.blob"].map(archiveKind),
    ["fixed-index", "dynamic-index", "blob", undefined, undefined],
  );

  t.notThrows(() =>
    checkManifestFile(added, "test1.img.fidx", { csum: Buffer.alloc(32, 1), size: 200 }),
  );
  t.throws(
    () => checkManifestFile(added, "test1.img.fidx", { csum: Buffer.alloc(32, 1), size: 199 }),
    {
      code: "CAIRN_E_FORMAT_CHECKSUM_MISMATCH",
      message: /size 199/,
    },
  );
  t.throws(
    () => checkManifestFile(added, "test1.img.fidx", { csum: Buffer.alloc(32, 4), size: 200 }),
    {
      code: "CAIRN_E_FORMAT_CHECKSUM_MISMATCH",
      message: /checksum/,
    },
  );
  t.throws(() => checkManifestFile(added, "nope.blob", { csum: Buffer.alloc(32), size: 0 }), {
    code: "CAIRN_E_FORMAT_BAD_MANIFEST",
  });
});

test("canonical JSON sorts keys by UTF-8 bytes and escapes strings as serde_json does", (t) => {
  t.is(
    canonicalJson({ b: [1, { d: true, c: false }], a: "x", "\u{1F600}": 1, "\uFF61": 2, B: -7 }),
    '{"B":-7,"a":"x","b":[1,{"c":false,"d":true}],"\uFF61":2,"\u{1F600}":1}',
  );
  t.is(
    canonicalJson('q"b\\s/\b\f\n\r\t\u0000\u0001\u001f\u007f é\u{1F600}'),
    '"q\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\u007f é\u{1F600}"',
  );
  t.is(canonicalJson({ kept: 1, skipped: undefined }), '{"kept":1}');
  t.is(canonicalJson([]), "[]");
  t.is(canonicalJson({}), "{}");
});

test("canonical JSON refuses null, floats, lone surrogates and non-JSON values", (t) => {
  const refused: [unknown, RegExp][] = [
    [{ a: { b: [1, null] } }, /null .*\$\.a\.b\[1\]/],
    [1.5, /not an integer/],
    [2 ** 53, /not an integer/],
    [-0, /-0/],
    [Number.NaN, /not an integer/],
    ["\uD800x", /lone surrogate/],
    [{ "\uDC00": 1 }, /lone surrogate/],
    [new Date(0), /plain objects/],
    [[undefined], /undefined/],
    [10n, /bigint/],
  ];
  for (const [value, message] of refused) {
    t.throws(() => canonicalJson(value), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT", message });
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  t.throws(() => canonicalJson(cyclic), { message: /contains itself/ });
});
