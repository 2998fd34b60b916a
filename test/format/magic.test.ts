import { createHash } from "node:crypto";
import test from "ava";
import {
  identifyMagic,
  MAGIC,
  MAGIC_SOURCE,
  type MagicKind,
} from "../../appliance/format/magic.js";

for (const kind of Object.keys(MAGIC) as MagicKind[]) {
  test(`${kind} magic is the SHA-256 prefix of its name and is recognised`, (t) => {
    const expected = createHash("sha256").update(MAGIC_SOURCE[kind]).digest().subarray(0, 8);
    t.deepEqual(MAGIC[kind], expected);
    t.is(identifyMagic(Buffer.concat([MAGIC[kind], Buffer.from("rest")])), kind);
  });
}

test("unknown or short input has no magic", (t) => {
  t.is(identifyMagic(Buffer.alloc(8)), undefined);
  t.is(identifyMagic(MAGIC.fixedIndex.subarray(0, 7)), undefined);
});
