import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { AccessControl } from "../../appliance/server/auth/access-control.js";
import { changeAcl } from "../../appliance/server/auth/acl-admin.js";
import { createConfiguredDatastore } from "../../appliance/server/datastore-setup.js";
import { execaRunner } from "../../appliance/system/command-runner.js";
import { detectZfsCapabilities } from "../../appliance/system/zfs/capabilities.js";
import { createZfsDatastore } from "../../appliance/system/zfs/zfs-datastore.js";
import { Zpool } from "../../appliance/system/zfs/zpool.js";
import { runCairn } from "../client/fixtures/cli.js";
import { type ClientTestServer, startClientServer, USER } from "../client/fixtures/server.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { canRun, quietly, scratchDir, uniqueName } from "./helpers.js";

const zfsOnLoopsHere = canRun("zpool", ["list"]) && canRun("losetup", ["--list"]);
const real = zfsOnLoopsHere ? test.serial : test.skip;

const DEVICE_SIZE = 128 * 1024 * 1024;
const SNAPSHOT = "host/zfs/2023-11-14T22:13:20Z";

/** A loop device over a new sparse file, detached when the test ends. */
function loopDevice(t: ExecutionContext, file: string): string {
  const fd = openSync(file, "w");
  ftruncateSync(fd, DEVICE_SIZE);
  closeSync(fd);
  const device = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
  t.teardown(() => quietly("losetup", ["--detach", device]));
  // the kernel may keep partitions of an earlier, larger image attached under the same number
  quietly("partx", ["-d", device]);
  return device;
}

/** A small tree with what an archive must carry: nesting, sizes across chunks, links, modes. */
async function sourceTree(dir: string): Promise<void> {
  await mkdir(join(dir, "etc", "app"), { recursive: true });
  await mkdir(join(dir, "var", "lib", "empty"), { recursive: true });
  await writeFile(join(dir, "etc", "app", "app.conf"), "listen = 127.0.0.1\nworkers = 4\n");
  await writeFile(join(dir, "etc", "empty"), "");
  await writeFile(join(dir, "var", "lib", "blob.bin"), pseudoRandomBuffer(3 * 1024 * 1024, "blob"));
  await writeFile(join(dir, "var", "lib", "small.bin"), pseudoRandomBuffer(70_000, "small"));
  await writeFile(join(dir, "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
  await symlink("etc/app/app.conf", join(dir, "config"));
}

/** Every entry below `dir` as path → type, permission bits and content or link target. */
async function describeTree(dir: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const path of (await readdir(dir, { recursive: true })).sort()) {
    const full = join(dir, path);
    const info = await lstat(full);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) entries.set(path, `link ${await readlink(full)}`);
    else if (info.isDirectory()) entries.set(path, `dir ${mode}`);
    else entries.set(path, `file ${mode} ${(await readFile(full)).toString("base64")}`);
  }
  return entries;
}

async function restoreAndCompare(
  t: ExecutionContext,
  server: ClientTestServer,
  env: NodeJS.ProcessEnv,
  source: string,
  label: string,
): Promise<void> {
  const target = join(server.scratch, `restored-${label}`);
  const restore = await runCairn(["restore", SNAPSHOT, "root.pxar", target], env);
  t.is(restore.status, 0, `${label}: ${restore.stderr}`);
  t.deepEqual(await describeTree(target), await describeTree(source), label);
}

/** Waits for the scrub zpool just started to end, then returns the pool's status. */
async function scrubbed(zpool: Zpool, name: string) {
  await zpool.scrub(name);
  let status = await zpool.get(name);
  for (let polls = 0; /in progress/.test(status.scan ?? "") && polls < 600; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = await zpool.get(name);
  }
  return status;
}

/** Gives the client's user the datastore, as an admin would. */
async function grantDatastore(server: ClientTestServer, store: string): Promise<void> {
  const access = server.server.services.access;
  if (!(access instanceof AccessControl)) throw new Error("the test server has no ACL config");
  await changeAcl(access.config, {
    path: `/datastore/${store}`,
    authId: USER,
    role: "DatastoreAdmin",
    propagate: true,
    delete: false,
  });
}

real(
  "mirror on loop devices: backup with the client, scrub, DEGRADED and corrupted side, restore",
  async (t) => {
    t.timeout(600_000);
    const dir = scratchDir(t, "cairn-zbk-");
    const devices = [loopDevice(t, join(dir, "d0")), loopDevice(t, join(dir, "d1"))];
    const name = uniqueName("zbk");
    // registered before the server's teardowns, so it runs after the server has stopped
    t.teardown(() => quietly("zpool", ["destroy", "-f", name]));
    const server = await startClientServer(t);

    const capabilities = await detectZfsCapabilities(execaRunner);
    const created = await createZfsDatastore(
      { name, devices, raidlevel: "mirror", addDatastore: true },
      {
        runner: execaRunner,
        capabilities,
        mountRoot: join(dir, "mnt"),
        // 65 536 prefix directories take minutes on zfs-fuse
        preallocate: false,
      },
    );
    t.deepEqual(created, { pool: name, mountpoint: join(dir, "mnt", name), datastore: true });
    await createConfiguredDatastore(server.server.datastores, name, { path: created.mountpoint });
    await grantDatastore(server, name);

    const zpool = new Zpool(execaRunner, capabilities);
    t.like(
      (await zpool.list()).find((pool) => pool.name === name),
      { health: "ONLINE" },
    );
    const fresh = await zpool.get(name);
    t.is(fresh.state, "ONLINE");
    const mirror = fresh.tree!.children[0]!;
    t.regex(mirror.name, /^mirror/);
    t.deepEqual(
      mirror.children.map((side) => side.state),
      ["ONLINE", "ONLINE"],
    );

    const source = join(server.scratch, "src");
    await sourceTree(source);
    const env = {
      ...server.env,
      CAIRN_REPOSITORY: `${USER}@127.0.0.1:${server.port}:${name}`,
    };
    const backup = await runCairn(
      ["backup", `root.pxar:${source}`, "--backup-id", "zfs", "--backup-time", "1700000000"],
      env,
    );
    t.is(backup.status, 0, backup.stderr);
    const chunks = await readdir(join(created.mountpoint, ".chunks"), { recursive: true });
    t.true(
      chunks.some((entry) => /[0-9a-f]{64}$/.test(entry)),
      "the chunks are in the pool",
    );
    t.true(
      (await readdir(join(created.mountpoint, "host", "zfs"))).includes("2023-11-14T22:13:20Z"),
    );
    await restoreAndCompare(t, server, env, source, "healthy");

    const clean = await scrubbed(zpool, name);
    t.is(clean.state, "ONLINE");
    t.deepEqual(
      clean.tree!.children[0]!.children.map((side) => side.cksum),
      [0, 0],
    );

    // One side offline: the pool degrades and the snapshot still restores from the other.
    await zpool.offline(name, devices[1]!);
    const degraded = await zpool.get(name);
    t.is(degraded.state, "DEGRADED");
    t.is(degraded.tree!.children[0]!.children[1]!.state, "OFFLINE");
    t.is((await zpool.list()).find((pool) => pool.name === name)?.health, "DEGRADED");
    await restoreAndCompare(t, server, env, source, "degraded");

    // Garbage over that side's data region (labels at both ends stay), then back online.
    const fd = openSync(devices[1]!, "r+");
    writeSync(fd, pseudoRandomBuffer(100 * 1024 * 1024, "garbage"), 0, undefined, 8 * 1024 * 1024);
    closeSync(fd);
    await zpool.online(name, devices[1]!);
    const repaired = await scrubbed(zpool, name);
    t.true(
      repaired.tree!.children[0]!.children[1]!.cksum > 0,
      "the damaged side shows checksum errors",
    );
    t.is(repaired.tree!.children[0]!.children[0]!.cksum, 0, "the intact side has none");
    await restoreAndCompare(t, server, env, source, "corrupted");

    await server.server.stop(2000);
    await zpool.destroy(name);
    t.false((await zpool.list()).some((pool) => pool.name === name));
    t.false(
      execFileSync("zpool", ["list", "-H", "-o", "name"], { encoding: "utf8" }).includes(name),
    );
  },
);
