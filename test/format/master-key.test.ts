import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  randomBytes,
} from "node:crypto";
import test from "ava";
import type { FormatError } from "../../appliance/format/errors.js";
import {
  createKeyConfig,
  loadKeyConfig,
  serializeKeyConfig,
} from "../../appliance/format/key-config.js";
import {
  createMasterKey,
  unwrapWithMasterKey,
  wrapKeyWithMasterKey,
} from "../../appliance/format/master-key.js";

const PASSWORD = "master password";
/** DER of the aes256-CBC OID 2.16.840.1.101.3.4.1.42, as it appears in PBES2 parameters. */
const AES_256_CBC_OID = Buffer.from("060960864801650304012a", "hex");

// One 4096-bit key pair for the whole file: generating one takes seconds.
const master = createMasterKey(PASSWORD);
const rawKey = randomBytes(32);
const keyConfig = createKeyConfig(rawKey, { kdf: "none", now: 1_714_557_600 });

test("the master key is RSA 4096 with an SPKI public and an AES-256-CBC encrypted PKCS#8 private PEM", async (t) => {
  const { publicPem, privatePem } = await master;
  t.true(publicPem.startsWith("-----BEGIN PUBLIC KEY-----\n"));
  t.true(privatePem.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
  t.is(createPublicKey(publicPem).asymmetricKeyDetails?.modulusLength, 4096);
  t.is(createPublicKey(publicPem).asymmetricKeyDetails?.publicExponent, 65537n);

  const der = Buffer.from(privatePem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  t.true(der.includes(AES_256_CBC_OID));
  t.throws(() => createPrivateKey(privatePem));
  const privateKey = createPrivateKey({ key: privatePem, passphrase: PASSWORD });
  t.is(createPublicKey(privateKey).export({ type: "spki", format: "pem" }), publicPem);
});

test("a wrapped key is one 512-byte PKCS#1 v1.5 block holding the unprotected key JSON", async (t) => {
  const { publicPem, privatePem } = await master;
  const config = await keyConfig;
  const wrapped = wrapKeyWithMasterKey(config, publicPem);
  t.is(wrapped.length, 512);

  // Raw RSA (no padding removal) shows the v1.5 block: 00 02, ≥ 8 non-zero bytes, 00, message.
  const privateKey = createPrivateKey({ key: privatePem, passphrase: PASSWORD });
  const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, wrapped);
  const separator = block.indexOf(0, 2);
  t.is(block.readUInt16BE(0), 0x0002);
  t.true(separator >= 10);
  t.is(block.subarray(separator + 1).toString("utf8"), serializeKeyConfig(config));
});

test("unwrap returns the unprotected key config, which loads to the same raw key", async (t) => {
  const { publicPem, privatePem } = await master;
  const config = await keyConfig;
  const unwrapped = unwrapWithMasterKey(
    wrapKeyWithMasterKey(config, publicPem),
    privatePem,
    PASSWORD,
  );
  t.deepEqual(unwrapped, config);
  t.deepEqual((await loadKeyConfig(unwrapped)).rawKey, rawKey);
});

test("key config JSON given as bytes is wrapped unchanged", async (t) => {
  const { publicPem, privatePem } = await master;
  const json = Buffer.from(serializeKeyConfig(await keyConfig, { utcOffsetMinutes: 60 }));
  const wrapped = wrapKeyWithMasterKey(json, publicPem);
  const privateKey = createPrivateKey({ key: privatePem, passphrase: PASSWORD });
  const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, wrapped);
  t.deepEqual(block.subarray(block.indexOf(0, 2) + 1), json);
  t.deepEqual(unwrapWithMasterKey(wrapped, privatePem, PASSWORD), await keyConfig);
});

test("only unprotected key configs are wrapped", async (t) => {
  const { publicPem } = await master;
  const sealed = await createKeyConfig(rawKey, { kdf: "pbkdf2", passphrase: "pass phrase" });
  t.throws(() => wrapKeyWithMasterKey(sealed, publicPem), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /unprotected/,
  });
  t.throws(() => wrapKeyWithMasterKey(Buffer.from(serializeKeyConfig(sealed)), publicPem), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
});

test("a wrong master password is reported as such", async (t) => {
  const { publicPem, privatePem } = await master;
  const wrapped = wrapKeyWithMasterKey(await keyConfig, publicPem);
  t.throws(() => unwrapWithMasterKey(wrapped, privatePem, "not the password"), {
    code: "CAIRN_E_FORMAT_BAD_KEY",
    message: /wrong master key password/,
  });
});

test("a tampered or truncated wrapped key is rejected", async (t) => {
  const { publicPem, privatePem } = await master;
  const wrapped = wrapKeyWithMasterKey(await keyConfig, publicPem);
  const flipped = Buffer.from(wrapped);
  flipped[100]! ^= 0x01;
  // A flipped bit decrypts to noise; its padding check fails except with odds near 2^-16, and then
  // the noise is no key config.
  const error = t.throws<FormatError>(() => unwrapWithMasterKey(flipped, privatePem, PASSWORD));
  t.true(["auth-failed", "bad-key"].includes(error.kind), error.message);
  t.throws(() => unwrapWithMasterKey(wrapped.subarray(1), privatePem, PASSWORD), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /must be 512 bytes/,
  });
});
