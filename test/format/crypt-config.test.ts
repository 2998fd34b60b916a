import test from "ava";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors();
const rawKey = Buffer.from(vectors.upstream_asserted.key_fingerprint.raw_key_hex, "hex");

test("fingerprint of key 00..1f matches the PBS unit test", (t) => {
  t.is(
    new CryptConfig(rawKey).fingerprintText(),
    vectors.upstream_asserted.key_fingerprint.expected_fingerprint,
  );
});

test("id key and keyed chunk digest match the derived vectors", (t) => {
  const config = new CryptConfig(rawKey);
  t.is(config.idKey.toString("hex"), vectors.derived["id_key(raw_key=00..1f)"]);
  t.is(
    config.chunkDigest(Buffer.from("hello")).toString("hex"),
    vectors.derived["encrypted_chunk_digest('hello', raw_key=00..1f)"],
  );
});

test("decrypt rejects a flipped ciphertext bit with an auth-failed error", (t) => {
  const config = new CryptConfig(rawKey);
  const { iv, tag, ciphertext } = config.encrypt(Buffer.alloc(200_000, 7));
  t.deepEqual(config.decrypt(ciphertext, iv, tag), Buffer.alloc(200_000, 7));
  ciphertext[1234]! ^= 1;
  t.throws(() => config.decrypt(ciphertext, iv, tag), { code: "CAIRN_E_FORMAT_AUTH_FAILED" });
});

test("a key of the wrong length is refused", (t) => {
  t.throws(() => new CryptConfig(Buffer.alloc(31)), { code: "CAIRN_E_FORMAT_BAD_KEY" });
});
