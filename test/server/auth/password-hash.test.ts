import test from "ava";
import {
  formatSecretHash,
  hashSecret,
  PASSWORD_COST,
  parseSecretHash,
  verifySecret,
} from "../../../appliance/server/auth/password-hash.js";
import { CHEAP_COST } from "./fixtures.js";

test("a hash verifies its own secret and no other", async (t) => {
  const hash = await hashSecret("correct horse", CHEAP_COST);
  t.true(await verifySecret("correct horse", hash));
  t.false(await verifySecret("correct horsf", hash));
  t.false(await verifySecret("", hash));
});

test("hashes carry their parameters and a random salt", async (t) => {
  const a = await hashSecret("same", CHEAP_COST);
  const b = await hashSecret("same", CHEAP_COST);
  t.regex(a, /^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  t.not(a, b);
  t.deepEqual(parseSecretHash(a).cost, CHEAP_COST);
  t.is(parseSecretHash(a).salt.length, 16);
});

test("the default password cost is scrypt N=2^15, r=8, p=1", async (t) => {
  t.deepEqual(PASSWORD_COST, { log2N: 15, r: 8, p: 1 });
  const hash = await hashSecret("pw");
  t.true(hash.startsWith("$scrypt$ln=15,r=8,p=1$"));
  t.true(await verifySecret("pw", hash));
});

test("a hash with other parameters still verifies (parameters come from the hash)", async (t) => {
  const hash = await hashSecret("pw", { log2N: 5, r: 4, p: 2 });
  t.true(await verifySecret("pw", hash));
});

test("malformed or absurd hashes are refused with a reason", (t) => {
  t.throws(() => parseSecretHash("$6$salt$hash"), { message: /not a hash of the form/ });
  const good = parseSecretHash(
    formatSecretHash({
      cost: CHEAP_COST,
      salt: Buffer.alloc(16, 1),
      hash: Buffer.alloc(32, 2),
    }),
  );
  t.is(good.hash.length, 32);
  t.throws(() => parseSecretHash(formatSecretHash({ ...good, cost: { log2N: 30, r: 8, p: 1 } })), {
    message: /log2N = 30 is outside 1\.\.20/,
  });
  t.throws(() => parseSecretHash(formatSecretHash({ ...good, salt: Buffer.alloc(4) })), {
    message: /salt is shorter/,
  });
});
