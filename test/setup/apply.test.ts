import {
  chownSync,
  closeSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
} from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { AccessControl } from "../../appliance/server/auth/access-control.js";
import { verifySecret } from "../../appliance/server/auth/password-hash.js";
import { readCertificateInfo } from "../../appliance/server/tls/certificate-files.js";
import { type ApplyEvent, type ApplyOptions, applyPlan } from "../../appliance/setup/apply.js";
import type { SetupPlan } from "../../appliance/setup/plan.js";
import { validatePlan } from "../../appliance/setup/plan.js";
import type { CommandResult } from "../../appliance/system/command-runner.js";
import { commandFailed, type RunOptions } from "../../appliance/system/command-runner.js";
import { RecordingRunner, scratchDir } from "../system/helpers.js";

/** Records like RecordingRunner and, like the real runner, throws on failure unless allowed. */
class ThrowingRecorder extends RecordingRunner {
  override async run(command: string, args: readonly string[], options?: RunOptions) {
    const result = await super.run(command, args, options);
    if (result.exitCode !== 0 && !options?.allowFailure) throw commandFailed(command, args, result);
    return result;
  }
}

const IP_ADDR = JSON.stringify([
  {
    ifname: "eth0",
    ifindex: 2,
    operstate: "UP",
    flags: ["UP"],
    address: "52:54:00:12:34:56",
    addr_info: [],
  },
]);

function machine(t: ExecutionContext, fail?: (line: string) => Partial<CommandResult> | undefined) {
  const dir = scratchDir(t, "cairn-apply-");
  const devices = ["d0", "d1"].map((name) => {
    const path = join(dir, name);
    const fd = openSync(path, "w");
    ftruncateSync(fd, 64 * 1024 * 1024);
    closeSync(fd);
    return path;
  });
  const runner = new ThrowingRecorder((command, args) => {
    const line = [command, ...args].join(" ");
    const failure = fail?.(line);
    if (failure) return failure;
    if (command === "ip" && args.includes("addr") && args.includes("show"))
      return { stdout: IP_ADDR };
    if (command === "lsblk") return { stdout: '{"blockdevices":[]}' };
    return {};
  });
  const options: ApplyOptions = {
    runner,
    root: join(dir, "root"),
    configDir: join(dir, "etc-cairn"),
    mountRoot: join(dir, "mnt"),
    capabilities: {
      exactPoolList: true,
      fragmentation: true,
      relatime: true,
      compression: ["on", "off", "lz4"],
    },
    passwordCost: { log2N: 10, r: 8, p: 1 },
    preallocate: false,
    rsaBits: 2048,
  };
  const plan: SetupPlan = validatePlan({
    network: {
      interface: "eth0",
      method: "static",
      address: "192.0.2.10/24",
      gateway: "192.0.2.1",
      dns: ["192.0.2.53"],
      fqdn: "backup.example.com",
    },
    disks: { devices, raidlevel: "mirror", pool: "tank", datastore: "store1" },
    retention: { "keep-daily": 10, "keep-yearly": 0, "verify-schedule": "sun 04:00" },
    admin: { password: "s3cret-pass", email: "ops@example.com" },
  });
  return { runner, options, plan, devices };
}

async function collect(events: AsyncIterable<ApplyEvent>): Promise<ApplyEvent[]> {
  const all: ApplyEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

test("every step runs in order and leaves the configuration behind", async (t) => {
  const { runner, options, plan, devices } = machine(t);
  const events = await collect(applyPlan(plan, options));
  t.deepEqual(
    events.filter((e) => e.type === "step-done").map((e) => e.type === "step-done" && e.step),
    ["network", "pool", "dataset", "datastore", "jobs", "admin", "service"],
  );
  const last = events.at(-1);
  if (last?.type !== "finished") return t.fail("no finished event");
  const lines = runner.calls.map((call) => call.join(" "));
  t.true(lines.includes("ip addr add 192.0.2.10/24 dev eth0"));
  t.true(lines.includes("ip -4 route replace default via 192.0.2.1 dev eth0"));
  t.true(
    lines.includes(
      `zpool create -o ashift=12 -O compression=lz4 -O atime=on -O relatime=on -m ${options.mountRoot}/tank tank mirror ${devices.join(" ")}`,
    ),
  );
  t.true(lines.includes("zfs create tank/store1"));
  t.is(lines.at(-1), "systemctl restart cairn-server.service");

  const root = options.root;
  t.regex(
    readFileSync(join(root, "etc/network/interfaces"), "utf8"),
    /iface eth0 inet static\n\taddress 192\.0\.2\.10\/24\n\tgateway 192\.0\.2\.1/,
  );
  t.is(readFileSync(join(root, "etc/hostname"), "utf8"), "backup\n");
  t.regex(
    readFileSync(join(root, "etc/hosts"), "utf8"),
    /192\.0\.2\.10 backup\.example\.com backup/,
  );
  t.regex(
    readFileSync(join(root, "etc/resolv.conf"), "utf8"),
    /search example\.com\nnameserver 192\.0\.2\.53/,
  );

  const stores = JSON.parse(readFileSync(join(options.configDir, "datastore.json"), "utf8"));
  t.like(stores.datastore.store1, {
    path: `${options.mountRoot}/tank/store1`,
    "gc-schedule": "daily",
    "prune-schedule": "hourly",
    "keep-last": 3,
    "keep-daily": 10,
  });
  t.false("keep-yearly" in stores.datastore.store1);
  const verify = JSON.parse(readFileSync(join(options.configDir, "verify.json"), "utf8"));
  t.like(verify.verify["v-store1"], { store: "store1", schedule: "sun 04:00" });

  const access = await AccessControl.open(options.configDir);
  t.like((await access.config.users.read()).users.get("admin@pbs"), {
    email: "ops@example.com",
    enable: true,
  });
  const hash = (await access.config.passwords.read()).get("admin@pbs");
  t.true(hash !== undefined && (await verifySecret("s3cret-pass", hash)));
  t.true(
    (await access.config.acl.read()).some(
      (e) => e.ugid === "admin@pbs" && e.role === "Admin" && e.path === "/",
    ),
  );

  const cert = await readCertificateInfo(options.configDir);
  t.deepEqual(last.result, {
    url: "https://192.0.2.10:8007",
    fingerprint: cert.fingerprint,
    repository: "admin@pbs@192.0.2.10:8007:store1",
    datastorePath: `${options.mountRoot}/tank/store1`,
  });
  t.true(cert.san.some((name) => name.includes("backup.example.com")));
  t.true(existsSync(join(root, "var/lib/cairn/setup-complete")), "the console starts next time");
});

const asRoot = process.getuid?.() === 0 ? test : test.skip;

asRoot(
  "run as root, the datastore and the configuration go to the config directory's owner",
  async (t) => {
    const { options, plan } = machine(t);
    mkdirSync(options.configDir, { recursive: true });
    chownSync(options.configDir, 65534, 65534); // the appliance's daemon user, as postinst sets it
    const events = await collect(applyPlan(plan, options));
    t.is(events.at(-1)?.type, "finished");
    const store = `${options.mountRoot}/tank/store1`;
    for (const path of [
      store,
      join(store, ".chunks"),
      join(options.configDir, "datastore.json"),
      join(options.configDir, "user.json"),
    ]) {
      t.like(lstatSync(path), { uid: 65534, gid: 65534 }, path);
    }
  },
);

test("a failing command stops the run with its error; a retry resumes at that step", async (t) => {
  let broken = true;
  const { runner, options, plan } = machine(t, (line) =>
    broken && line.startsWith("zpool create")
      ? {
          exitCode: 1,
          stderr: "cannot create 'tank': one or more devices is currently unavailable",
        }
      : undefined,
  );
  const events = await collect(applyPlan(plan, options));
  const failed = events.at(-1);
  if (failed?.type !== "step-failed") return t.fail("no failure");
  t.is(failed.step, "pool");
  t.deepEqual(failed.completed, ["network"]);
  t.regex(
    failed.error.message,
    /zpool create .* failed \(exit 1\): cannot create 'tank': one or more devices/,
  );
  t.false(runner.calls.some((call) => call[0] === "zfs" && call[1] === "create"));
  t.throws(() => readFileSync(join(options.configDir, "datastore.json")));
  t.false(existsSync(join(options.root, "var/lib/cairn/setup-complete")), "setup still pending");

  broken = false;
  const retry = await collect(applyPlan(plan, { ...options, from: "pool" }));
  t.is(retry[0]?.type === "step-start" && retry[0].step, "pool");
  t.is(retry.at(-1)?.type, "finished");
});

test("a refused live network change leaves the interfaces file untouched", async (t) => {
  const { options, plan } = machine(t, (line) =>
    line.startsWith("ip addr add")
      ? { exitCode: 2, stderr: "RTNETLINK answers: File exists" }
      : undefined,
  );
  const events = await collect(applyPlan(plan, options));
  const failed = events.at(-1);
  t.is(failed?.type === "step-failed" && failed.step, "network");
  t.throws(() => readFileSync(join(options.root, "etc/network/interfaces")));
  t.throws(() => readFileSync(join(options.root, "etc/network/interfaces.new")));
});
