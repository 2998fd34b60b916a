import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import anyTest, { type TestFn } from "ava";
import { REPO_ROOT } from "../helpers/cli.js";

const run = promisify(execFile);

const haveDpkgDeb = spawnSync("dpkg-deb", ["--version"]).status === 0;
const test = anyTest as TestFn;
const debTest = haveDpkgDeb ? test.serial : test.serial.skip;
if (!haveDpkgDeb) console.log("test/debian: dpkg-deb not found, skipping the package tests");

const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
};

let dir: string;
let deb: string;
let root: string;
let control: string;

/** Fields of a Debian control paragraph (continuation lines folded into their field). */
function controlFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let last = "";
  for (const line of text.split("\n")) {
    if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
    else if (line.includes(":")) {
      last = line.slice(0, line.indexOf(":"));
      fields.set(last, line.slice(last.length + 1).trim());
    }
  }
  return fields;
}

test.before(async (t) => {
  if (!haveDpkgDeb) return;
  // a cold build installs the production dependencies from the registry first (minutes)
  t.timeout(15 * 60_000);
  dir = await mkdtemp(join(tmpdir(), "cairn-deb-"));
  await run("bash", [join(REPO_ROOT, "debian", "build-deb.sh")], {
    env: { ...process.env, CAIRN_OUT_DIR: join(dir, "out"), CAIRN_DEB_COMPRESSION: "zstd" },
    maxBuffer: 16 << 20,
  });
  const [file] = await readdir(join(dir, "out"));
  deb = join(dir, "out", file ?? "missing.deb");
  root = join(dir, "root");
  control = join(dir, "control");
  await run("dpkg-deb", ["-x", deb, root]);
  await run("dpkg-deb", ["-e", deb, control]);
});

test.after.always(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

debTest("the package is named for its version and architecture", async (t) => {
  const arch = (await run("dpkg", ["--print-architecture"])).stdout.trim();
  t.is(deb, join(dir, "out", `cairn_${pkg.version}_${arch}.deb`));
});

debTest("the control fields name the package, its version and its dependencies", async (t) => {
  const fields = controlFields((await run("dpkg-deb", ["-f", deb])).stdout);
  t.is(fields.get("Package"), "cairn");
  t.is(fields.get("Version"), pkg.version);
  t.is(fields.get("Architecture"), (await run("dpkg", ["--print-architecture"])).stdout.trim());
  t.regex(fields.get("Maintainer") ?? "", /^.+ <[^@\s]+@[^@\s]+>$/);
  t.true(Number(fields.get("Installed-Size")) > 1000);
  t.truthy(fields.get("Description"));
  const depends = (fields.get("Depends") ?? "").split(",").map((d) => d.trim());
  const nodeMajor = Number(process.versions.node.split(".")[0]);
  for (const dependency of [
    `nodejs (>= ${nodeMajor})`,
    // the fs-ext addon is built for one Node ABI
    `nodejs (<< ${nodeMajor + 1})`,
    "zfsutils-linux | zfs-fuse",
    "zstd",
    "util-linux",
    "ifupdown | ifupdown2",
    "dhcpcd-base",
    "smartmontools",
    "gdisk",
  ]) {
    t.true(depends.includes(dependency), `Depends lacks ${dependency}: ${depends.join(", ")}`);
  }
});

debTest("every executable is on PATH and points at its entry point", async (t) => {
  t.deepEqual(Object.keys(pkg.bin).sort(), [
    "cairn",
    "cairn-debug",
    "cairn-manager",
    "cairn-server",
    "cairn-setup",
  ]);
  for (const [name, target] of Object.entries(pkg.bin)) {
    const link = join(root, "usr", "bin", name);
    t.is(await readlink(link), `../lib/cairn/${target}`, name);
    t.true(((await stat(link)).mode & 0o111) !== 0, `${name} is not executable`);
  }
});

debTest(
  "the file list holds units, entry points and native addons, not build leftovers",
  async (t) => {
    const listing = (await run("dpkg-deb", ["-c", deb], { maxBuffer: 64 << 20 })).stdout;
    const paths = new Set(
      listing
        .split("\n")
        .filter(Boolean)
        .map((line) => (line.split(/\s+/)[5] ?? "").replace(/^\.\//, "/")),
    );
    for (const path of [
      "/usr/lib/systemd/system/cairn-server.service",
      "/usr/lib/systemd/system/cairn-privileged.service",
      "/usr/lib/systemd/system/getty@tty1.service.d/cairn-console.conf",
      "/usr/lib/systemd/system/serial-getty@ttyS0.service.d/cairn-console.conf",
      "/usr/lib/cairn/cairn-console",
      "/usr/lib/cairn/package.json",
      "/usr/lib/cairn/build/Release/cairn_buzhash.node",
      "/usr/lib/cairn/build/Release/cairn_fsops.node",
      "/usr/lib/cairn/node_modules/zstd-napi/build/Release/binding.node",
      "/usr/lib/cairn/node_modules/commander/package.json",
      "/usr/share/doc/cairn/copyright",
      "/usr/share/doc/cairn/changelog.gz",
      ...Object.values(pkg.bin).map((target) => `/usr/lib/cairn/${target}`),
    ]) {
      t.true(paths.has(path), `${path} is missing`);
    }
    const unwanted = [...paths].filter(
      (path) =>
        /\/(obj\.target|\.deps)\/|\.o$|\/Makefile$/.test(path) ||
        /^\/usr\/lib\/cairn\/node_modules\/(typescript|ava|tsx|@biomejs)\//.test(path) ||
        (path.startsWith("/usr/lib/cairn/dist/") && !path.endsWith("/") && !path.endsWith(".js")),
    );
    t.deepEqual(unwanted, []);
  },
);

debTest("the maintainer scripts parse and handle the Debian actions", async (t) => {
  for (const script of ["postinst", "prerm", "postrm"]) {
    const path = join(control, script);
    t.true(((await stat(path)).mode & 0o111) !== 0, `${script} is not executable`);
    const parsed = spawnSync("sh", ["-n", path], { encoding: "utf8" });
    t.is(parsed.status, 0, `${script}: ${parsed.stderr}`);
    t.true((await readFile(path, "utf8")).startsWith("#!/bin/sh\n"), script);
  }
  const postinst = await readFile(join(control, "postinst"), "utf8");
  t.regex(postinst, /getent passwd backup/);
  t.regex(postinst, /own_dir \/etc\/cairn/);
  t.regex(postinst, /own_dir \/var\/lib\/cairn/);
  t.regex(postinst, /^units="cairn-privileged\.service cairn-server\.service"$/m);
  const postrm = await readFile(join(control, "postrm"), "utf8");
  // configuration goes on purge only
  const purge = postrm.slice(postrm.indexOf("\npurge)"));
  const remove = postrm.slice(postrm.indexOf("\nremove)"), postrm.indexOf("\npurge)"));
  t.regex(purge, /rm -rf \/etc\/cairn/);
  t.notRegex(remove, /rm /);
  // an unknown action is an error, as policy asks
  const unknown = spawnSync("sh", [join(control, "postrm"), "no-such-action"], {
    encoding: "utf8",
  });
  t.is(unknown.status, 1);
});

debTest("the units run the daemon as backup and the console on tty1 and ttyS0", async (t) => {
  const units = join(root, "usr", "lib", "systemd", "system");
  const service = await readFile(join(units, "cairn-server.service"), "utf8");
  t.regex(service, /^User=backup$/m);
  t.regex(
    service,
    /^ExecStart=\/usr\/bin\/cairn-server --config-dir \/etc\/cairn --state-dir \/var\/lib\/cairn --privileged-socket \/run\/cairn\/privileged\.sock$/m,
  );
  t.regex(service, /^After=.*\bcairn-privileged\.service\b/m);
  t.regex(service, /^Wants=cairn-privileged\.service$/m);
  // the privileged half: root, its socket in a runtime directory the daemon can enter
  const privileged = await readFile(join(units, "cairn-privileged.service"), "utf8");
  t.regex(privileged, /^User=root$/m);
  t.regex(
    privileged,
    /^ExecStart=\/usr\/bin\/cairn-server --privileged --config-dir \/etc\/cairn --state-dir \/var\/lib\/cairn --socket \/run\/cairn\/privileged\.sock$/m,
  );
  t.regex(privileged, /^RuntimeDirectory=cairn$/m);
  t.regex(privileged, /^RuntimeDirectoryMode=0755$/m);
  t.regex(privileged, /^WantedBy=multi-user\.target$/m);
  t.regex(service, /^StandardOutput=journal$/m);
  t.regex(service, /^WantedBy=multi-user\.target$/m);
  for (const dropIn of ["getty@tty1.service.d", "serial-getty@ttyS0.service.d"]) {
    const text = await readFile(join(units, dropIn, "cairn-console.conf"), "utf8");
    // the first empty ExecStart= clears getty's own before ours is set
    t.regex(text, /^ExecStart=\nExecStart=-\/usr\/lib\/cairn\/cairn-console$/m, dropIn);
  }
});

debTest("the console launcher runs the installer, first-boot setup or the menu", async (t) => {
  const launcher = join(root, "usr", "lib", "cairn", "cairn-console");
  const text = await readFile(launcher, "utf8");
  t.regex(text, /\/var\/lib\/cairn\/setup-complete/);
  // a stand-in for cairn-setup that reports the mode it was given
  const setup = join(dir, "fake-cairn-setup");
  const marker = join(dir, "setup-complete");
  // like the real one, an unattended first boot marks the setup complete
  await writeFile(
    setup,
    `#!/bin/sh\necho "mode=$*"\n[ "$1 $2" != "firstboot --answer" ] || : > ${marker}\n`,
    { mode: 0o755 },
  );
  const cmdline = join(dir, "cmdline");
  const answer = join(dir, "firstboot-answer.toml");
  const mode = async (options: { marker: boolean; cmdline: string; answer?: boolean }) => {
    await rm(marker, { force: true });
    if (options.marker) await writeFile(marker, "");
    if (options.answer) await writeFile(answer, "[network]\n");
    await writeFile(cmdline, `${options.cmdline}\n`);
    const result = spawnSync("sh", [launcher], {
      encoding: "utf8",
      env: {
        ...process.env,
        CAIRN_SETUP: setup,
        CAIRN_SETUP_MARKER: marker,
        CAIRN_CMDLINE: cmdline,
        CAIRN_FIRSTBOOT_ANSWER: answer,
      },
    });
    t.is(result.status, 0, result.stderr);
    return result.stdout;
  };
  const plain = "BOOT_IMAGE=/live/vmlinuz boot=live console=ttyS0,115200n8";
  const firstboot = await mode({ marker: false, cmdline: plain });
  t.regex(firstboot, /first-boot setup on/);
  t.regex(firstboot, /^mode=firstboot$/m);
  t.regex(await mode({ marker: true, cmdline: plain }), /^mode=console$/m);
  // after an automated install: first boot applies the answers, removes them, then the menu
  const unattended = await mode({ marker: false, cmdline: plain, answer: true });
  t.regex(unattended, new RegExp(`^mode=firstboot --answer ${answer}$`, "m"));
  t.regex(unattended, /^mode=console$/m);
  t.false(existsSync(answer), "the answers with the admin password are removed");
  const install = await mode({ marker: false, cmdline: `${plain} cairn.mode=install` });
  t.regex(install, /^mode=install$/m);
  t.regex(install, /installer on/);
  // only the whole word counts
  t.regex(
    await mode({ marker: true, cmdline: `${plain} cairn.mode=installer` }),
    /^mode=console$/m,
  );
});

debTest("the installed executables run and load every native addon", async (t) => {
  const bin = join(root, "usr", "bin");
  const help = spawnSync(join(bin, "cairn"), ["--help"], { encoding: "utf8" });
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /^Usage: cairn /);
  const version = spawnSync(join(bin, "cairn-server"), ["--version"], { encoding: "utf8" });
  t.is(version.stdout.trim(), pkg.version);
  const setup = spawnSync(join(bin, "cairn-setup"), ["--help"], { encoding: "utf8" });
  t.regex(setup.stdout, /firstboot/);

  const addons = (await run("find", [root, "-name", "*.node", "-type", "f"])).stdout
    .split("\n")
    .filter(Boolean);
  t.true(addons.length >= 4, addons.join("\n"));
  for (const addon of addons) {
    const loaded = spawnSync(
      process.execPath,
      ["-e", "process.dlopen({ exports: {} }, process.argv[1])", addon],
      { encoding: "utf8" },
    );
    t.is(loaded.status, 0, `${addon}: ${loaded.stderr}`);
  }
});

debTest("the packaged daemon starts, sets up an embedded store and stops on SIGTERM", async (t) => {
  t.timeout(240_000); // a 4096-bit key on first start takes long on a busy machine
  const data = join(dir, "embedded");
  const daemon = spawn(
    join(root, "usr", "bin", "cairn-server"),
    ["--embedded", data, "--host", "127.0.0.1", "--port", "0"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let banner = "";
  const listening = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 180_000);
    daemon.stderr.on("data", (chunk: Buffer) => {
      banner += chunk.toString();
      if (/listening on https:\/\/127\.0\.0\.1:\d+\//.test(banner)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    daemon.on("exit", () => resolve(false));
  });
  const exited = new Promise<number | null>((resolve) => daemon.on("exit", resolve));
  daemon.kill("SIGTERM");
  t.true(listening, banner);
  t.regex(banner, /fingerprint: ([0-9a-f]{2}:){31}[0-9a-f]{2}/);
  t.regex(banner, /created datastore store1/);
  t.is(await exited, 0);
});
