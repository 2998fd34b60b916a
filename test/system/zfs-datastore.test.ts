import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { Datastore } from "../../appliance/datastore/index.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { execaRunner } from "../../appliance/system/command-runner.js";
import {
  detectZfsCapabilities,
  type ZfsCapabilities,
} from "../../appliance/system/zfs/capabilities.js";
import {
  createZfsDatastore,
  type ZfsDatastoreRequest,
} from "../../appliance/system/zfs/zfs-datastore.js";
import { Zpool } from "../../appliance/system/zfs/zpool.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { canRun, quietly, RecordingRunner, scratchDir, uniqueName } from "./helpers.js";

const zfsHere = canRun("zpool", ["list"]);
const real = zfsHere ? test.serial : test.skip;
const FUSE_LIKE: ZfsCapabilities = {
  exactPoolList: false,
  fragmentation: false,
  relatime: false,
  compression: ["on", "off", "lzjb", "gzip", "gzip-[1-9]", "zle"],
};

function sparseFiles(t: ExecutionContext, count: number): { dir: string; files: string[] } {
  const dir = scratchDir(t, "cairn-zds-");
  const files = Array.from({ length: count }, (_, i) => join(dir, `d${i}`));
  for (const file of files) {
    const fd = openSync(file, "w");
    ftruncateSync(fd, 128 * 1024 * 1024);
    closeSync(fd);
  }
  return { dir, files };
}

test("bad requests run no command", async (t) => {
  const runner = new RecordingRunner();
  const context = { runner, capabilities: FUSE_LIKE, mountRoot: "/nonexistent" };
  const bad: [ZfsDatastoreRequest, RegExp][] = [
    [{ name: "mirror", devices: ["/dev/a", "/dev/b"], raidlevel: "mirror" }, /reserved/],
    [{ name: "9x", devices: ["/dev/a", "/dev/b"], raidlevel: "mirror" }, /pool name/],
    [{ name: "tank", devices: ["/dev/a"], raidlevel: "mirror" }, /mirror needs 2/],
    [{ name: "tank", devices: ["/dev/a", "/dev/b", "/dev/c"], raidlevel: "raid10" }, /even/],
    [
      { name: "tank", devices: ["/dev/a", "/dev/b", "/dev/c", "/dev/d"], raidlevel: "raidz3" },
      /5 or more/,
    ],
    [{ name: "tank", devices: ["/dev/a", "/dev/b"], raidlevel: "mirror", ashift: 8 }, /ashift/],
    [
      { name: "tank", devices: ["/dev/a", "/dev/b"], raidlevel: "mirror", compression: "lz4" },
      /compression/,
    ],
    [{ name: "tank", devices: ["/dev/a", "relative"], raidlevel: "mirror" }, /absolute/],
  ];
  for (const [request, message] of bad) {
    await t.throwsAsync(createZfsDatastore(request, context), {
      code: "CAIRN_E_SYSTEM_BAD_INPUT",
      message,
    });
  }
  t.deepEqual(runner.calls, []);
});

real("a device already in a pool is refused before zpool create runs", async (t) => {
  const { dir, files } = sparseFiles(t, 3);
  const name = uniqueName("inuse");
  t.teardown(() => quietly("zpool", ["destroy", "-f", name]));
  execFileSync("zpool", ["create", "-m", join(dir, "m"), name, files[0]!], { stdio: "ignore" });
  const runner = new RecordingRunner(undefined, true);
  await t.throwsAsync(
    createZfsDatastore(
      { name: uniqueName("other"), devices: [files[0]!, files[1]!], raidlevel: "mirror" },
      { runner, mountRoot: dir },
    ),
    { code: "CAIRN_E_SYSTEM_DEVICE_IN_USE", message: /in use \(zfs\)/ },
  );
  t.deepEqual(runner.of("zpool", "create"), []);
});

real(
  "mirror datastore: chunk round trip, scrub, offline → DEGRADED, corruption healed",
  async (t) => {
    const { dir, files } = sparseFiles(t, 2);
    const name = uniqueName("store");
    t.teardown(() => quietly("zpool", ["destroy", "-f", name]));
    const capabilities = await detectZfsCapabilities(execaRunner);
    const logged: string[] = [];
    const result = await createZfsDatastore(
      { name, devices: files, raidlevel: "mirror", addDatastore: true },
      {
        runner: execaRunner,
        capabilities,
        mountRoot: join(dir, "mnt"),
        // 65 536 prefix directories take minutes on zfs-fuse and fill a 128 MiB test pool.
        preallocate: false,
        log: (m) => logged.push(m),
      },
    );
    t.deepEqual(result, { pool: name, mountpoint: join(dir, "mnt", name), datastore: true });
    t.true(logged.some((line) => line.includes("creating datastore")));

    const data = pseudoRandomBuffer(200_000, "zfs");
    const { digest, encoded } = encodeChunk(data);
    const hex = digest.toString("hex");
    const store = await Datastore.open(result.mountpoint, { name });
    await store.chunks.insert(hex, encoded, { expectedSize: data.length });
    t.deepEqual(await store.chunks.read(hex), encoded);

    const zpool = new Zpool(execaRunner, capabilities);
    await zpool.scrub(name);
    t.is((await zpool.get(name)).state, "ONLINE");

    // One side offline: the pool degrades, the chunk still reads after caches are dropped.
    await zpool.offline(name, files[1]!);
    const degraded = await zpool.get(name);
    t.is(degraded.state, "DEGRADED");
    t.is(degraded.tree!.children[0]!.children[1]!.state, "OFFLINE");
    t.is((await zpool.list()).find((pool) => pool.name === name)?.health, "DEGRADED");
    await zpool.export(name);
    await zpool.import(name, [dir]);
    t.deepEqual(await (await Datastore.open(result.mountpoint)).chunks.read(hex), encoded);
    await zpool.online(name, files[1]!);

    // Garbage over the data region of one side (labels at both ends stay): reads heal, scrub counts.
    await zpool.export(name);
    const fd = openSync(files[1]!, "r+");
    writeSync(fd, pseudoRandomBuffer(100 * 1024 * 1024, "garbage"), 0, undefined, 8 * 1024 * 1024);
    closeSync(fd);
    await zpool.import(name, [dir]);
    t.deepEqual(await (await Datastore.open(result.mountpoint)).chunks.read(hex), encoded);
    await zpool.scrub(name);
    const deadline = Date.now() + 30_000;
    let status = await zpool.get(name);
    while (/in progress/.test(status.scan ?? "") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await zpool.get(name);
    }
    t.true(
      status.tree!.children[0]!.children[1]!.cksum > 0,
      "the damaged side shows checksum errors",
    );

    await zpool.destroy(name);
    t.false((await zpool.list()).some((pool) => pool.name === name));
  },
);

real("a failing datastore step destroys the new pool again", async (t) => {
  const { dir, files } = sparseFiles(t, 1);
  const name = uniqueName("rollback");
  t.teardown(() => quietly("zpool", ["destroy", "-f", name]));
  await t.throwsAsync(
    createZfsDatastore(
      { name, devices: files, raidlevel: "single", addDatastore: true },
      {
        runner: execaRunner,
        mountRoot: join(dir, "mnt"),
        register: async () => {
          throw new Error("config is locked");
        },
      },
    ),
    { message: "config is locked" },
  );
  const zpool = new Zpool(execaRunner, await detectZfsCapabilities(execaRunner));
  t.false((await zpool.list()).some((pool) => pool.name === name));
});
