import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { giveTreeTo } from "../../appliance/server/tasks/file-owner.js";

const asRoot = process.getuid?.() === 0 ? test : test.skip;
const NOBODY = { uid: 65534, gid: 65534 };

asRoot(
  "giveTreeTo hands a whole tree to the owner without following links out of it",
  async (t) => {
    const base = mkdtempSync(join(tmpdir(), "cairn-owner-"));
    t.teardown(() => rmSync(base, { recursive: true, force: true }));
    const outside = join(base, "outside");
    writeFileSync(outside, "not ours");
    const tree = join(base, "store");
    mkdirSync(join(tree, ".chunks", "0000"), { recursive: true });
    writeFileSync(join(tree, ".chunks", "0000", "chunk"), "data");
    symlinkSync(outside, join(tree, "link"));

    await giveTreeTo(NOBODY, tree);
    for (const path of [tree, join(tree, ".chunks"), join(tree, ".chunks", "0000", "chunk")]) {
      t.like(lstatSync(path), NOBODY, path);
    }
    t.like(lstatSync(join(tree, "link")), NOBODY, "the link itself");
    t.like(lstatSync(outside), { uid: 0, gid: 0 }, "the link's target is untouched");
  },
);

test("giveTreeTo without an owner changes nothing", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-owner-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = lstatSync(dir);
  await giveTreeTo(undefined, dir);
  t.like(lstatSync(dir), { uid: before.uid, gid: before.gid });
});
