import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { REPO_ROOT } from "../helpers/cli.js";

const script = join(REPO_ROOT, "iso-build", "mirror.sh");

/** Runs mirror.sh on an apt folder made of the given files, without the caller's overrides. */
async function mirrors(files: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const dir = await mkdtemp(join(tmpdir(), "cairn-apt-"));
  try {
    await mkdir(join(dir, "sources.list.d"));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const { CAIRN_MIRROR, CAIRN_SECURITY_MIRROR, ...rest } = process.env;
    const result = spawnSync("bash", [script, dir], { encoding: "utf8", env: { ...rest, ...env } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("one-line sources: the release entry and the security entry, not third parties", async (t) => {
  const result = await mirrors({
    "sources.list": [
      "# deb http://commented.example/debian trixie main",
      "deb [arch=amd64] https://vendor.example/apt stable-tools main",
      "deb-src http://src.example/debian bookworm main",
      "deb http://mirror.example/debian/ bookworm main contrib",
      "deb http://mirror.example/debian bookworm-updates main",
      "deb http://security.example/debian-security bookworm-security main",
    ].join("\n"),
  });
  t.is(result.status, 0, result.stderr);
  t.is(
    result.stdout,
    "debian http://mirror.example/debian\nsecurity http://security.example/debian-security\n",
  );
});

test("deb822 sources: disabled paragraphs are skipped, several suites and URIs are read", async (t) => {
  const result = await mirrors({
    "sources.list.d/vendor.sources":
      "Types: deb\nURIs: https://vendor.example/node\nSuites: nodistro\nComponents: main\n",
    "sources.list.d/debian.sources": [
      "Types: deb",
      "URIs: http://old.example/debian",
      "Suites: trixie",
      "Enabled: no",
      "",
      "# the one in use",
      "Types: deb deb-src",
      "URIs: http://mirror.example/debian http://second.example/debian",
      "Suites: trixie trixie-updates",
      "Components: main",
      "",
      "Types: deb",
      "URIs: http://mirror.example/debian-security",
      "Suites: trixie-security",
      "Components: main",
    ].join("\n"),
  });
  t.is(result.status, 0, result.stderr);
  t.is(
    result.stdout,
    "debian http://mirror.example/debian\nsecurity http://mirror.example/debian-security\n",
  );
});

test("the environment overrides the apt sources", async (t) => {
  const result = await mirrors(
    { "sources.list": "deb http://mirror.example/debian bookworm main\n" },
    { CAIRN_MIRROR: "http://local.example/debian" },
  );
  t.is(result.stdout, "debian http://local.example/debian\n");
});

test("no Debian entry is an error naming the variable to set", async (t) => {
  const result = await mirrors({
    "sources.list": "deb https://vendor.example/apt stable-tools main\n",
  });
  t.is(result.status, 1);
  t.is(result.stdout, "");
  t.regex(result.stderr, /CAIRN_MIRROR/);
});

test("no mirror host is written in the image build", async (t) => {
  for (const file of [
    "build-iso.sh",
    "zfs-modules.sh",
    "zfs-modules-hook.sh",
    "customize-image.sh",
    "apt-cache.sh",
    "boot-test.sh",
    "grub.cfg",
  ]) {
    const text = await readFile(join(REPO_ROOT, "iso-build", file), "utf8");
    t.notRegex(text, /https?:\/\/[a-z0-9.-]+\.[a-z]{2,}/i, file);
  }
});

test("GRUB boots with video on UEFI and the console on tty0 and ttyS0", async (t) => {
  const grub = await readFile(join(REPO_ROOT, "iso-build", "grub.cfg"), "utf8");
  t.regex(grub, /^insmod all_video$/m);
  t.regex(grub, /^terminal_output console serial$/m);
  const linux = grub.split("\n").filter((line) => line.trim().startsWith("linux "));
  t.true(linux.length >= 1);
  for (const line of linux) {
    t.regex(line, /boot=live/);
    t.regex(line, /console=tty0 console=ttyS0,115200/);
  }
});

test("the image carries the zones and keyboard layouts the installer accepts", async (t) => {
  const build = await readFile(join(REPO_ROOT, "iso-build", "build-iso.sh"), "utf8");
  const list = build.slice(
    build.indexOf("packages=("),
    build.indexOf("\n)", build.indexOf("packages=(")),
  );
  const packages = list
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .join(" ")
    .split(/\s+/);
  // install-plan.ts checks a zone against /usr/share/zoneinfo of the live root (tzdata)
  t.true(packages.includes("tzdata"));
  // /etc/default/keyboard is applied on the console by console-setup
  t.true(packages.includes("console-setup"));
});
