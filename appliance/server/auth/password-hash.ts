import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters, stored with every hash so they can be raised later. */
export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}

/** For passwords people choose: about 32 MiB and tens of milliseconds per attempt. */
export const PASSWORD_COST: ScryptCost = { log2N: 15, r: 8, p: 1 };

/** Token secrets are 122 random bits, so guessing is hopeless anyway; cheap keeps requests fast. */
export const TOKEN_SECRET_COST: ScryptCost = { log2N: 10, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const LIMITS = { log2N: [1, 20], r: [1, 32], p: [1, 16] } as const;
const FORMAT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface SecretHash {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

/** Hashes a secret with a fresh random salt: `$scrypt$ln=…,r=…,p=…$<salt>$<hash>` (base64). */
export async function hashSecret(
  secret: string,
  cost: ScryptCost = PASSWORD_COST,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, cost, HASH_BYTES);
  return formatSecretHash({ cost, salt, hash });
}

/** True when `secret` matches the stored hash; compares in constant time. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const stored = parseSecretHash(encoded);
  const hash = await derive(secret, stored.salt, stored.cost, stored.hash.length);
  return timingSafeEqual(hash, stored.hash);
}

export function formatSecretHash({ cost, salt, hash }: SecretHash): string {
  const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");
  return `$scrypt$ln=${cost.log2N},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(hash)}`;
}

/** Parses a stored hash; throws an Error saying what is wrong with it. */
export function parseSecretHash(encoded: string): SecretHash {
  const match = FORMAT.exec(encoded);
  if (match === null) throw new Error("not a hash of the form $scrypt$ln=N,r=R,p=P$salt$hash");
  const cost = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  for (const key of ["log2N", "r", "p"] as const) {
    const [min, max] = LIMITS[key];
    if (cost[key] < min || cost[key] > max) {
      throw new Error(`scrypt parameter ${key} = ${cost[key]} is outside ${min}..${max}`);
    }
  }
  const salt = Buffer.from(match[4]!, "base64");
  const hash = Buffer.from(match[5]!, "base64");
  if (salt.length < 8) throw new Error("the salt is shorter than 8 bytes");
  if (hash.length < 16 || hash.length > 64) throw new Error("the hash is not 16..64 bytes long");
  return { cost, salt, hash };
}

function derive(secret: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  const options = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
