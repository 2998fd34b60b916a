import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, scrypt } from "node:crypto";
import { promisify } from "node:util";
import {
  CryptConfig,
  formatFingerprint,
  IV_LENGTH,
  KEY_LENGTH,
  TAG_LENGTH,
} from "./crypt-config.js";
import { FormatError } from "./errors.js";
import { formatRfc3339, parseRfc3339 } from "./rfc3339.js";

const pbkdf2Async = promisify(pbkdf2);

/** PBS's parameters for new keys (pbs-key-config). */
const SCRYPT_N = 65536;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const PBKDF2_ITERATIONS = 65535;
const SALT_LENGTH = 32;
/** PBS caps scrypt at 1025 MiB; N=65536, r=8 needs 64 MiB. */
const SCRYPT_MAX_MEMORY = 1025 * 1024 * 1024;
const MIN_PASSPHRASE_BYTES = 5;
const PROTECTED_DATA_LENGTH = IV_LENGTH + TAG_LENGTH + KEY_LENGTH;

export type Passphrase = string | Uint8Array;
export type KdfKind = "scrypt" | "pbkdf2" | "none";

/** How a passphrase becomes the 32-byte key that seals the raw key. */
export type KeyDerivation =
  | { kind: "scrypt"; n: number; r: number; p: number; salt: Buffer }
  | { kind: "pbkdf2"; iter: number; salt: Buffer };

/** An encryption key file (PBS `KeyConfig`); timestamps are epoch seconds. */
export interface KeyConfig {
  /** null: `data` is the raw key itself. */
  kdf: KeyDerivation | null;
  created: number;
  modified: number;
  /** Raw key (unprotected) or IV ‖ TAG ‖ AES-256-GCM(derived, raw key) (protected). */
  data: Buffer;
  /** SHA-256 fingerprint of the key; optional on read, always written by us. */
  fingerprint?: Buffer;
  hint?: string;
}

/** What a key file unlocks. */
export interface LoadedKey {
  rawKey: Buffer;
  cryptConfig: CryptConfig;
  /** Colon hex, 32 bytes. */
  fingerprint: string;
}

export interface CreateKeyOptions {
  kdf: KdfKind;
  passphrase?: Passphrase;
  hint?: string;
  /** Epoch seconds for `created`/`modified`; defaults to now. */
  now?: number;
}

export interface ChangePassphraseOptions {
  /** Defaults to the current derivation when protected, else scrypt; "none" needs a null passphrase. */
  kdf?: KdfKind;
  /** Replaces the old hint, which described the old passphrase. */
  hint?: string;
  now?: number;
}

// ─── creating and unlocking ─────────────────────────────────────────────────────────────────────

/** Wraps a raw key in a key file, sealed under a passphrase unless `kdf` is "none". */
export async function createKeyConfig(
  rawKey: Buffer,
  options: CreateKeyOptions,
): Promise<KeyConfig> {
  const cryptConfig = new CryptConfig(rawKey);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const base = { created: now, modified: now, fingerprint: cryptConfig.fingerprint };
  if (options.kdf === "none") {
    if (options.passphrase !== undefined) {
      throw new FormatError("invalid-argument", 'a passphrase was given with kdf "none"');
    }
    if (options.hint !== undefined) {
      throw new FormatError("invalid-argument", 'a passphrase hint is not allowed with kdf "none"');
    }
    return { kdf: null, ...base, data: Buffer.from(rawKey) };
  }
  const passphrase = requirePassphrase(options.passphrase, "a protected key needs a passphrase");
  const kdf = newKeyDerivation(options.kdf);
  const data = sealRawKey(await deriveKeyFromPassphrase(kdf, passphrase), rawKey);
  return { kdf, ...base, data, ...(options.hint === undefined ? {} : { hint: options.hint }) };
}

/** Unlocks a key file: derives, decrypts, and checks the key against the stored fingerprint. */
export async function loadKeyConfig(
  config: KeyConfig,
  passphrase?: Passphrase,
): Promise<LoadedKey> {
  checkDataLength(config);
  let rawKey: Buffer;
  if (config.kdf === null) {
    rawKey = Buffer.from(config.data);
  } else {
    const bytes = requirePassphrase(
      passphrase,
      "this key is protected: a passphrase is needed to unlock it",
    );
    rawKey = openRawKey(await deriveKeyFromPassphrase(config.kdf, bytes), config.data, config.hint);
  }
  const cryptConfig = new CryptConfig(rawKey);
  if (config.fingerprint && !config.fingerprint.equals(cryptConfig.fingerprint)) {
    const stored = formatFingerprint(config.fingerprint);
    const actual = cryptConfig.fingerprintText();
    throw new FormatError(
      "bad-key",
      `key file fingerprint ${stored} does not match the key it holds (${actual}): the file was altered`,
      { field: "fingerprint", stored, actual },
    );
  }
  return { rawKey, cryptConfig, fingerprint: cryptConfig.fingerprintText() };
}

/** Re-protects the same raw key under a new passphrase (or none); keeps `created`. */
export async function changePassphrase(
  config: KeyConfig,
  oldPassphrase: Passphrase | undefined,
  newPassphrase: Passphrase | null,
  options: ChangePassphraseOptions = {},
): Promise<KeyConfig> {
  const kdf = options.kdf ?? (newPassphrase === null ? "none" : (config.kdf?.kind ?? "scrypt"));
  if ((kdf === "none") !== (newPassphrase === null)) {
    throw new FormatError(
      "invalid-argument",
      'kdf "none" and a null new passphrase go together; give both or neither',
      { kdf },
    );
  }
  const { rawKey } = await loadKeyConfig(config, oldPassphrase);
  const renewed = await createKeyConfig(rawKey, {
    kdf,
    passphrase: newPassphrase ?? undefined,
    hint: options.hint,
    now: options.now,
  });
  return { ...renewed, created: config.created };
}

/** The 32-byte key a passphrase derives under a key file's parameters. */
export async function deriveKeyFromPassphrase(
  kdf: KeyDerivation,
  passphrase: Passphrase,
): Promise<Buffer> {
  try {
    if (kdf.kind === "scrypt") {
      const options = { N: kdf.n, r: kdf.r, p: kdf.p, maxmem: SCRYPT_MAX_MEMORY };
      return await new Promise<Buffer>((resolve, reject) =>
        scrypt(passphrase, kdf.salt, KEY_LENGTH, options, (err, key) =>
          err ? reject(err) : resolve(key),
        ),
      );
    }
    return await pbkdf2Async(passphrase, kdf.salt, kdf.iter, KEY_LENGTH, "sha256");
  } catch (err) {
    const problem = `${kdf.kind} parameters of the key file are not usable`;
    throw new FormatError("bad-key", problem, { field: "kdf" }, { cause: err });
  }
}

function newKeyDerivation(kind: "scrypt" | "pbkdf2"): KeyDerivation {
  const salt = randomBytes(SALT_LENGTH);
  return kind === "scrypt"
    ? { kind, n: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P, salt }
    : { kind, iter: PBKDF2_ITERATIONS, salt };
}

function requirePassphrase(passphrase: Passphrase | undefined, missing: string): Buffer {
  if (passphrase === undefined) throw new FormatError("invalid-argument", missing);
  const bytes =
    typeof passphrase === "string" ? Buffer.from(passphrase, "utf8") : Buffer.from(passphrase);
  if (bytes.length < MIN_PASSPHRASE_BYTES) {
    throw new FormatError(
      "invalid-argument",
      `passphrase is too short: it must be at least ${MIN_PASSPHRASE_BYTES} bytes`,
      { length: bytes.length },
    );
  }
  return bytes;
}

/** IV ‖ TAG ‖ ciphertext, AES-256-GCM with empty AAD (the derived key is no CryptConfig). */
function sealRawKey(derived: Buffer, rawKey: Buffer): Buffer {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", derived, iv);
  const ciphertext = Buffer.concat([cipher.update(rawKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

function openRawKey(derived: Buffer, data: Buffer, hint: string | undefined): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", derived, data.subarray(0, IV_LENGTH));
  decipher.setAuthTag(data.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH));
  const ciphertext = data.subarray(IV_LENGTH + TAG_LENGTH);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (err) {
    // GCM cannot tell a wrong passphrase from altered data; the passphrase is by far the likelier.
    const hinted = hint === undefined ? "" : ` (hint: ${hint})`;
    throw new FormatError(
      "auth-failed",
      `wrong passphrase for this key${hinted}, or its encrypted data is damaged`,
      { field: "data" },
      { cause: err },
    );
  }
}

function checkDataLength(config: KeyConfig): void {
  const expected = config.kdf === null ? KEY_LENGTH : PROTECTED_DATA_LENGTH;
  if (config.data.length !== expected) {
    throw badField(
      "data",
      `must hold ${expected} bytes for ${config.kdf === null ? "an unprotected" : "a protected"} key, got ${config.data.length}`,
    );
  }
}

// ─── JSON ───────────────────────────────────────────────────────────────────────────────────────

/**
 * The key file text PBS writes: compact JSON, fields in PBS's order, timestamps in local time with
 * a numeric offset (or the given offset), fingerprint and hint omitted when absent.
 */
export function serializeKeyConfig(
  config: KeyConfig,
  options: { utcOffsetMinutes?: number } = {},
): string {
  const json: Record<string, unknown> = {
    kdf: serializeKdf(config.kdf),
    created: formatRfc3339(config.created, options.utcOffsetMinutes),
    modified: formatRfc3339(config.modified, options.utcOffsetMinutes),
    data: config.data.toString("base64"),
  };
  if (config.fingerprint) json["fingerprint"] = formatFingerprint(config.fingerprint);
  if (config.hint !== undefined) json["hint"] = config.hint;
  return JSON.stringify(json);
}

function serializeKdf(kdf: KeyDerivation | null): unknown {
  if (kdf === null) return null;
  const salt = kdf.salt.toString("base64");
  // serde's externally tagged enum: the variant name is the only key.
  return kdf.kind === "scrypt"
    ? { Scrypt: { n: kdf.n, r: kdf.r, p: kdf.p, salt } }
    : { PBKDF2: { iter: kdf.iter, salt } };
}

/** Reads key file text, checking every field; unknown fields are ignored, as PBS does. */
export function parseKeyConfig(text: string | Uint8Array): KeyConfig {
  let json: unknown;
  try {
    json = JSON.parse(typeof text === "string" ? text : Buffer.from(text).toString("utf8"));
  } catch (err) {
    throw new FormatError("bad-key", "key file is not valid JSON", {}, { cause: err });
  }
  if (!isObject(json)) throw new FormatError("bad-key", "key file must be a JSON object");
  const config: KeyConfig = {
    kdf: parseKdf(json["kdf"]),
    created: parseTimestamp(json, "created"),
    modified: parseTimestamp(json, "modified"),
    data: parseBase64(json["data"], "data"),
  };
  const fingerprint = json["fingerprint"];
  if (fingerprint !== undefined && fingerprint !== null) {
    config.fingerprint = parseFingerprint(fingerprint);
  }
  const hint = json["hint"];
  if (hint !== undefined && hint !== null) {
    if (typeof hint !== "string") throw badField("hint", "must be a string");
    config.hint = hint;
  }
  checkDataLength(config);
  return config;
}

function parseKdf(value: unknown): KeyDerivation | null {
  if (value === null) return null;
  if (!isObject(value) || Object.keys(value).length !== 1) {
    throw badField("kdf", 'must be null, {"Scrypt":{…}} or {"PBKDF2":{…}}');
  }
  const [variant, params] = Object.entries(value)[0]!;
  if (variant !== "Scrypt" && variant !== "PBKDF2") {
    throw badField("kdf", `names an unknown key derivation ${JSON.stringify(variant)}`);
  }
  if (!isObject(params)) throw badField(`kdf.${variant}`, "must be an object");
  if (variant === "Scrypt") {
    return {
      kind: "scrypt",
      n: parseCount(params["n"], "kdf.Scrypt.n"),
      r: parseCount(params["r"], "kdf.Scrypt.r"),
      p: parseCount(params["p"], "kdf.Scrypt.p"),
      salt: parseBase64(params["salt"], "kdf.Scrypt.salt"),
    };
  }
  return {
    kind: "pbkdf2",
    iter: parseCount(params["iter"], "kdf.PBKDF2.iter"),
    salt: parseBase64(params["salt"], "kdf.PBKDF2.salt"),
  };
}

function parseCount(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw badField(field, "must be a positive integer");
  }
  return value as number;
}

function parseTimestamp(json: Record<string, unknown>, field: "created" | "modified"): number {
  const value = json[field];
  if (typeof value !== "string") throw badField(field, "must be an RFC 3339 timestamp string");
  try {
    return parseRfc3339(value);
  } catch (err) {
    throw badField(field, `is not an RFC 3339 timestamp: ${JSON.stringify(value)}`, err);
  }
}

/** Standard alphabet with padding; re-encoding must give the same text, so no stray bits or chars. */
function parseBase64(value: unknown, field: string): Buffer {
  if (typeof value !== "string") throw badField(field, "must be a base64 string");
  const bytes = Buffer.from(value, "base64");
  if (bytes.toString("base64") !== value) throw badField(field, "is not padded standard base64");
  return bytes;
}

/** Colons are optional and hex may be either case, as in PBS's parser. */
function parseFingerprint(value: unknown): Buffer {
  const hex = typeof value === "string" ? value.replaceAll(":", "") : "";
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw badField("fingerprint", "must be 32 bytes of colon-separated hex");
  }
  return Buffer.from(hex, "hex");
}

function badField(field: string, problem: string, cause?: unknown): FormatError {
  return new FormatError(
    "bad-key",
    `key file field "${field}" ${problem}`,
    { field },
    cause === undefined ? undefined : { cause },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
