import { randomBytes } from "node:crypto";
import test from "ava";
import { CryptConfig, formatFingerprint } from "../../appliance/format/crypt-config.js";
import type { FormatError } from "../../appliance/format/errors.js";
import {
  changePassphrase,
  createKeyConfig,
  deriveKeyFromPassphrase,
  type KdfKind,
  type KeyConfig,
  loadKeyConfig,
  parseKeyConfig,
  serializeKeyConfig,
} from "../../appliance/format/key-config.js";
import { formatRfc3339, parseRfc3339 } from "../../appliance/format/rfc3339.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors();
const upstream = vectors.upstream_asserted;
const rawKey0to31 = Buffer.from(upstream.key_fingerprint.raw_key_hex, "hex");
const MAY_FIRST_NOON_CEST = Date.parse("2024-05-01T10:00:00Z") / 1000;

/** A key file written by hand the way PBS writes one (kdf null, local time +02:00). */
const unprotectedKeyFile =
  '{"kdf":null,"created":"2024-05-01T12:00:00+02:00","modified":"2024-05-01T12:00:00+02:00",' +
  `"data":"${rawKey0to31.toString("base64")}","fingerprint":"${upstream.key_fingerprint.expected_fingerprint}"}`;

// One scrypt-protected key shared by the tests that only read it (scrypt costs ~0.4 s per call).
const scryptRawKey = randomBytes(32);
const scryptKey = createKeyConfig(scryptRawKey, {
  kdf: "scrypt",
  passphrase: "correct horse",
  hint: "the horse",
  now: MAY_FIRST_NOON_CEST,
});

test("the upstream key 00..1f loads from a PBS-shaped file with the upstream fingerprint", async (t) => {
  const loaded = await loadKeyConfig(parseKeyConfig(unprotectedKeyFile));
  t.is(loaded.fingerprint, upstream.key_fingerprint.expected_fingerprint);
  t.deepEqual(loaded.rawKey, rawKey0to31);
  t.is(loaded.cryptConfig.fingerprintText(), upstream.key_fingerprint.expected_fingerprint);
});

test("an unprotected key created from 00..1f carries the upstream fingerprint", async (t) => {
  const config = await createKeyConfig(rawKey0to31, { kdf: "none", now: MAY_FIRST_NOON_CEST });
  t.is(config.kdf, null);
  t.deepEqual(config.data, rawKey0to31);
  t.is(serializeKeyConfig(config, { utcOffsetMinutes: 120 }), unprotectedKeyFile);
  t.is((await loadKeyConfig(config)).fingerprint, upstream.key_fingerprint.expected_fingerprint);
});

test("scrypt('test', empty salt) derives the manifest-signature key and its fingerprint", async (t) => {
  const manifest = upstream.manifest_signature;
  const derived = await deriveKeyFromPassphrase(
    { kind: "scrypt", n: 65536, r: 8, p: 1, salt: Buffer.alloc(0) },
    "test",
  );
  t.is(derived.toString("hex"), manifest.derived_raw_key_hex);
  t.is(new CryptConfig(derived).fingerprintText(), manifest.key_fingerprint_of_that_key);
});

const kdfShapes: Record<KdfKind, (kdf: unknown) => boolean> = {
  scrypt: (kdf) =>
    isRecord(kdf) &&
    Object.keys(kdf).join() === "Scrypt" &&
    isRecord(kdf["Scrypt"]) &&
    Object.keys(kdf["Scrypt"]).join() === "n,r,p,salt" &&
    kdf["Scrypt"]["n"] === 65536 &&
    kdf["Scrypt"]["r"] === 8 &&
    kdf["Scrypt"]["p"] === 1 &&
    Buffer.from(kdf["Scrypt"]["salt"] as string, "base64").length === 32,
  pbkdf2: (kdf) =>
    isRecord(kdf) &&
    Object.keys(kdf).join() === "PBKDF2" &&
    isRecord(kdf["PBKDF2"]) &&
    Object.keys(kdf["PBKDF2"]).join() === "iter,salt" &&
    kdf["PBKDF2"]["iter"] === 65535 &&
    Buffer.from(kdf["PBKDF2"]["salt"] as string, "base64").length === 32,
  none: (kdf) => kdf === null,
};

for (const kdf of ["scrypt", "pbkdf2", "none"] as const) {
  test(`a ${kdf} key survives create → serialize → parse → load`, async (t) => {
    const rawKey = randomBytes(32);
    const passphrase = kdf === "none" ? undefined : "s3cret phrase";
    const config = await createKeyConfig(rawKey, { kdf, passphrase });
    const text = serializeKeyConfig(config);
    const json = JSON.parse(text);
    t.true(kdfShapes[kdf](json.kdf), text);
    t.is(Buffer.from(json.data, "base64").length, kdf === "none" ? 32 : 64);
    if (kdf !== "none") t.false(Buffer.from(json.data, "base64").includes(rawKey));

    const loaded = await loadKeyConfig(parseKeyConfig(text), passphrase);
    t.deepEqual(loaded.rawKey, rawKey);
    t.is(loaded.fingerprint, new CryptConfig(rawKey).fingerprintText());
    t.is(json.fingerprint, loaded.fingerprint);
  });
}

test("serialize writes PBS's field order and parse reads back the same config", async (t) => {
  const config = await scryptKey;
  const text = serializeKeyConfig(config, { utcOffsetMinutes: 120 });
  const json = JSON.parse(text);
  t.deepEqual(Object.keys(json), ["kdf", "created", "modified", "data", "fingerprint", "hint"]);
  t.is(json.created, "2024-05-01T12:00:00+02:00");
  t.is(json.hint, "the horse");
  t.is(text, JSON.stringify(json)); // compact, as serde_json::to_string writes it
  t.deepEqual(parseKeyConfig(text), config);
  t.is(serializeKeyConfig(parseKeyConfig(text), { utcOffsetMinutes: 120 }), text);
});

test("absent hint and fingerprint are omitted, not written as null", (t) => {
  const config: KeyConfig = { kdf: null, created: 0, modified: 0, data: rawKey0to31 };
  const text = serializeKeyConfig(config, { utcOffsetMinutes: 0 });
  t.is(
    text,
    `{"kdf":null,"created":"1970-01-01T00:00:00+00:00","modified":"1970-01-01T00:00:00+00:00","data":"${rawKey0to31.toString("base64")}"}`,
  );
  t.deepEqual(parseKeyConfig(text), config);
});

test("timestamps default to local time and parse back to the same instant", (t) => {
  const config: KeyConfig = {
    kdf: null,
    created: 1_700_000_000,
    modified: 1_700_000_001,
    data: rawKey0to31,
  };
  const json = JSON.parse(serializeKeyConfig(config));
  t.regex(json.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  t.is(parseRfc3339(json.created), 1_700_000_000);
  t.is(parseRfc3339(json.modified), 1_700_000_001);
});

test("RFC 3339 timestamps use numeric offsets both ways and accept Z on read", (t) => {
  t.is(formatRfc3339(MAY_FIRST_NOON_CEST, 120), "2024-05-01T12:00:00+02:00");
  t.is(formatRfc3339(MAY_FIRST_NOON_CEST, -330), "2024-05-01T04:30:00-05:30");
  t.is(formatRfc3339(951_782_400, 0), "2000-02-29T00:00:00+00:00");
  t.is(parseRfc3339("2024-05-01T04:30:00-05:30"), MAY_FIRST_NOON_CEST);
  t.is(parseRfc3339("2024-05-01T10:00:00Z"), MAY_FIRST_NOON_CEST);
  t.is(parseRfc3339("0050-06-01T00:00:00Z"), Date.parse("0050-06-01T00:00:00Z") / 1000);
  for (const bad of [
    "2024-05-01 10:00:00Z",
    "2024-05-01T10:00:00.5Z",
    "2024-05-01T10:00:00",
    "2023-02-29T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-05-01T10:00:00+0200",
  ]) {
    t.throws(() => parseRfc3339(bad), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" }, bad);
  }
});

/** Each case patches the PBS-shaped file; an undefined value removes the field. */
const badFiles: Array<[string, Record<string, unknown>, string]> = [
  ["unknown kdf", { kdf: { Argon2: { salt: "" } } }, "kdf"],
  ["two kdf variants", { kdf: { Scrypt: {}, PBKDF2: {} } }, "kdf"],
  ["fractional scrypt n", { kdf: { Scrypt: { n: 1.5, r: 8, p: 1, salt: "" } } }, "kdf.Scrypt.n"],
  ["unpadded salt", { kdf: { PBKDF2: { iter: 9, salt: "AAA" } } }, "kdf.PBKDF2.salt"],
  ["created in the wrong form", { created: "yesterday" }, "created"],
  ["modified missing", { modified: undefined }, "modified"],
  ["data not base64", { data: "!!!!" }, "data"],
  ["data of 31 bytes", { data: Buffer.alloc(31).toString("base64") }, "data"],
  ["short fingerprint", { fingerprint: "0e:ab" }, "fingerprint"],
  ["hint not a string", { hint: 7 }, "hint"],
];

for (const [name, patch, field] of badFiles) {
  test(`parse rejects a key file with ${name}, naming "${field}"`, (t) => {
    const text = JSON.stringify({ ...JSON.parse(unprotectedKeyFile), ...patch });
    const error = t.throws<FormatError>(() => parseKeyConfig(text), {
      code: "CAIRN_E_FORMAT_BAD_KEY",
    });
    t.is(error.context["field"], field);
    t.true(error.message.includes(`"${field}"`), error.message);
  });
}

test("parse rejects text that is not a JSON object", (t) => {
  t.throws(() => parseKeyConfig("{"), {
    code: "CAIRN_E_FORMAT_BAD_KEY",
    message: /not valid JSON/,
  });
  t.throws(() => parseKeyConfig("[]"), { code: "CAIRN_E_FORMAT_BAD_KEY", message: /JSON object/ });
});

test("parse accepts an upper-case fingerprint without colons and ignores unknown fields", (t) => {
  const json = JSON.parse(unprotectedKeyFile);
  json.fingerprint = json.fingerprint.replaceAll(":", "").toUpperCase();
  json.comment = "added by hand";
  const config = parseKeyConfig(JSON.stringify(json));
  t.is(
    config.fingerprint?.toString("hex"),
    upstream.key_fingerprint.expected_fingerprint.replaceAll(":", ""),
  );
});

test("a wrong passphrase is reported as such, with the hint", async (t) => {
  const config = await scryptKey;
  await t.throwsAsync(loadKeyConfig(config, "wrong horse"), {
    code: "CAIRN_E_FORMAT_AUTH_FAILED",
    message: /^wrong passphrase for this key \(hint: the horse\)/,
  });
});

test("a passphrase shorter than 5 bytes is refused before deriving", async (t) => {
  const config = await scryptKey;
  await t.throwsAsync(loadKeyConfig(config, "1234"), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /too short: it must be at least 5 bytes/,
  });
  await t.throwsAsync(createKeyConfig(randomBytes(32), { kdf: "pbkdf2", passphrase: "abc" }), {
    message: /too short/,
  });
});

test("a protected key without a passphrase asks for one", async (t) => {
  const config = await scryptKey;
  await t.throwsAsync(loadKeyConfig(config), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /protected: a passphrase is needed/,
  });
});

test("altered key data is rejected: sealed data fails its tag, plain data its fingerprint", async (t) => {
  const sealed = await createKeyConfig(randomBytes(32), {
    kdf: "pbkdf2",
    passphrase: "pass phrase",
  });
  const flipped = Buffer.from(sealed.data);
  flipped[40]! ^= 1;
  await t.throwsAsync(loadKeyConfig({ ...sealed, data: flipped }, "pass phrase"), {
    code: "CAIRN_E_FORMAT_AUTH_FAILED",
    message: /encrypted data is damaged/,
  });

  const plain = parseKeyConfig(unprotectedKeyFile);
  const altered = Buffer.from(plain.data);
  altered[0]! ^= 1;
  await t.throwsAsync(loadKeyConfig({ ...plain, data: altered }), {
    code: "CAIRN_E_FORMAT_BAD_KEY",
    message: /does not match the key it holds/,
  });
  await t.throwsAsync(
    loadKeyConfig({ ...sealed, data: sealed.data.subarray(0, 48) }, "pass phrase"),
    {
      code: "CAIRN_E_FORMAT_BAD_KEY",
      message: /"data" must hold 64 bytes for a protected key, got 48/,
    },
  );
});

test("a stored fingerprint that differs from the key is rejected, naming both", async (t) => {
  const config = await createKeyConfig(randomBytes(32), {
    kdf: "pbkdf2",
    passphrase: "pass phrase",
  });
  const wrong = Buffer.from(config.fingerprint!);
  wrong[31]! ^= 0xff;
  const error = await t.throwsAsync(
    loadKeyConfig({ ...config, fingerprint: wrong }, "pass phrase"),
    {
      code: "CAIRN_E_FORMAT_BAD_KEY",
    },
  );
  t.is(
    error.message,
    `key file fingerprint ${formatFingerprint(wrong)} does not match the key it holds ` +
      `(${formatFingerprint(config.fingerprint!)}): the file was altered`,
  );
});

test("changePassphrase keeps the raw key, fingerprint and created, and moves modified", async (t) => {
  const original = await scryptKey;
  const later = MAY_FIRST_NOON_CEST + 3600;
  const changed = await changePassphrase(original, "correct horse", "battery staple", {
    now: later,
  });
  t.is(changed.kdf?.kind, "scrypt");
  t.is(changed.created, original.created);
  t.is(changed.modified, later);
  t.deepEqual(changed.fingerprint, original.fingerprint);
  t.is(changed.hint, undefined); // the old hint described the old passphrase
  t.notDeepEqual(changed.data, original.data);
  t.deepEqual((await loadKeyConfig(changed, "battery staple")).rawKey, scryptRawKey);
  await t.throwsAsync(loadKeyConfig(changed, "correct horse"), {
    code: "CAIRN_E_FORMAT_AUTH_FAILED",
  });
});

test("changePassphrase can remove and add protection and switch the derivation", async (t) => {
  const rawKey = randomBytes(32);
  const pbkdf2Key = await createKeyConfig(rawKey, {
    kdf: "pbkdf2",
    passphrase: "first one",
    now: 100,
  });
  const unprotected = await changePassphrase(pbkdf2Key, "first one", null, { now: 200 });
  t.is(unprotected.kdf, null);
  t.deepEqual(unprotected.data, rawKey);
  t.is(unprotected.created, 100);

  const reprotected = await changePassphrase(unprotected, undefined, "second one", {
    kdf: "pbkdf2",
    hint: "two",
    now: 300,
  });
  t.is(reprotected.kdf?.kind, "pbkdf2");
  t.is(reprotected.hint, "two");
  t.is(reprotected.created, 100);
  t.is(reprotected.modified, 300);
  t.deepEqual((await loadKeyConfig(reprotected, "second one")).rawKey, rawKey);

  await t.throwsAsync(changePassphrase(reprotected, "second one", "third one", { kdf: "none" }), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
});

test("createKeyConfig refuses inconsistent options and keys of the wrong length", async (t) => {
  await t.throwsAsync(createKeyConfig(randomBytes(31), { kdf: "none" }), {
    code: "CAIRN_E_FORMAT_BAD_KEY",
  });
  await t.throwsAsync(
    createKeyConfig(randomBytes(32), { kdf: "none", passphrase: "hello world" }),
    {
      code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    },
  );
  await t.throwsAsync(createKeyConfig(randomBytes(32), { kdf: "none", hint: "nope" }), {
    message: /hint is not allowed/,
  });
  await t.throwsAsync(createKeyConfig(randomBytes(32), { kdf: "scrypt" }), {
    message: /needs a passphrase/,
  });
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
