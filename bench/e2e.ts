/**
 * End-to-end benchmark with the real CLI against a real embedded server on 127.0.0.1 (TLS):
 * first backup, unchanged re-backup, incremental after `make-dataset.sh --mutate --gen 1`, full
 * restore, bytes stored, and peak RSS of client and server, on the shared benchmark dataset
 * (bench README in the shared bench folder). `--peers` also runs restic (REST over TLS, local) and
 * borg (local, zstd 3) on the same data in the same run, and prints Cairn's ratios against each.
 *
 *   tsx bench/e2e.ts [--data DIR] [--dataset-script PATH] [--peers] [--json]
 *                    [--change-detection-mode legacy|data|metadata]
 *
 * `--data DIR` keeps the generated pristine tree in DIR/files and reuses it next time (it is
 * copied before being mutated); without it everything lives under os.tmpdir() and is removed.
 * The dataset script is found at $CAIRN_BENCH_DATASET, `--dataset-script`, or ../shared/bench/
 * next to the repository.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { borgLocal, have, resticLocal, resticRest, type Tool } from "./e2e-peers.js";

const MiB = 1024 * 1024;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Args {
  data?: string;
  script: string;
  peers: boolean;
  /** Passed to `cairn backup`; default legacy. */
  mode: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  let data: string | undefined;
  let script =
    process.env.CAIRN_BENCH_DATASET ??
    resolve(repoRoot, "..", "shared", "bench", "make-dataset.sh");
  let peers = false;
  let json = false;
  let mode = "legacy";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--data") data = resolve(argv[++i]!);
    else if (a === "--dataset-script") script = resolve(argv[++i]!);
    else if (a === "--peers") peers = true;
    else if (a === "--json") json = true;
    else if (a === "--change-detection-mode") mode = argv[++i]!;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!existsSync(script)) throw new Error(`no dataset script at ${script} (use --dataset-script)`);
  return { ...(data !== undefined && { data }), script, peers, json, mode };
}

interface Measured {
  seconds: number;
  /** Peak RSS of the command (GNU time %M), bytes. */
  rss: number;
}

/** Runs argv under /usr/bin/time, without blocking the loop; returns wall time and peak RSS. */
function measure(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Measured> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "@@RSS %M", ...argv], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - start) / 1000;
      const m = /@@RSS (\d+)/.exec(out);
      if (code !== 0) reject(new Error(`${argv.join(" ")} exited ${code}:\n${out.slice(-4000)}`));
      else resolvePromise({ seconds, rss: m ? Number(m[1]) * 1024 : Number.NaN });
    });
  });
}

function sh(argv: string[], cwd?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`${argv.join(" ")} exited ${code}`)),
    );
  });
}

/** Sum of the sizes of the regular files under dir (not `du`: the 65,536 chunk-prefix directories would add 256 MiB). */
async function storedBytes(dir: string): Promise<number> {
  const out = await sh(["find", dir, "-type", "f", "-printf", "%s\n"]);
  return out.split("\n").reduce((sum, line) => sum + (Number(line) || 0), 0);
}

/** Peak RSS so far of a process (VmHWM), bytes. */
async function peakRss(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** The embedded Cairn server as a child process, and the CLI as a Tool. */
async function cairn(work: string, mode: string): Promise<Tool> {
  const base = join(work, "cairn");
  const server = spawn(
    process.execPath,
    [
      join(repoRoot, "dist/appliance/cli/cairn-server.js"),
      "--embedded",
      base,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } },
  );
  let banner = "";
  const info = await new Promise<{ port: string; password: string; fingerprint: string }>(
    (resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${banner}`)), 30000);
      server.on("exit", (code) => reject(new Error(`server exited ${code}:\n${banner}`)));
      server.stderr.on("data", (d: Buffer) => {
        banner += d.toString();
        const port = /listening on https:\/\/[^:]+:(\d+)\//.exec(banner)?.[1];
        const password = /password (\S+) \(shown only now\)/.exec(banner)?.[1];
        const fingerprint = /fingerprint: (\S+)/.exec(banner)?.[1];
        if (port && password && fingerprint && /repository: /.test(banner)) {
          clearTimeout(timer);
          resolvePromise({ port, password, fingerprint });
        }
      });
    },
  );
  server.stderr.resume();
  const cli = join(repoRoot, "dist/appliance/cli/cairn.js");
  const keyfile = join(work, "cairn.key");
  const env = {
    ...process.env,
    CAIRN_REPOSITORY: `root@pam@127.0.0.1:${info.port}:store1`,
    CAIRN_PASSWORD: info.password,
    CAIRN_FINGERPRINT: info.fingerprint,
  };
  let time = 1_700_000_000;
  const node = process.execPath;
  return {
    name: `Cairn → cairn-server, TLS 1.3, ${mode} mode`,
    env,
    storeDir: join(base, "store1", ".chunks"),
    serverPid: () => server.pid,
    init: async () => {
      await measure([node, cli, "key", "create", "--kdf", "none", keyfile], { env });
    },
    backup: () => [
      node,
      cli,
      "backup",
      `files.pxar:.`,
      "--backup-id",
      "bench",
      "--backup-time",
      String(++time),
      "--keyfile",
      keyfile,
      "--change-detection-mode",
      mode,
    ],
    restore: (target) => [
      "sh",
      "-c",
      // the snapshot comes from `snapshot list`, as a user would take it
      `snap=$("${node}" "${cli}" snapshot list --output-format json | "${node}" -e '
        const l = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const s = l.sort((a, b) => a["backup-time"] - b["backup-time"]).at(-1);
        console.log(s["backup-type"] + "/" + s["backup-id"] + "/" + new Date(s["backup-time"] * 1000).toISOString().replace(".000Z", "Z"));
      ') && exec "${node}" "${cli}" restore "$snap" files.pxar "${target}" --keyfile "${keyfile}"`,
    ],
    stop: async () => {
      if (server.exitCode !== null) return;
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    },
  };
}

interface Row {
  tool: string;
  first: number;
  unchanged: number;
  incremental: number;
  restore: number;
  stored: number;
  clientRss: number;
  serverRss: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), "cairn-e2e-"));
  const dataDir = args.data ?? join(work, "data");
  const pristine = join(dataDir, "files");
  const src = join(work, "src");
  const restoreDir = join(work, "restore");
  const log = (line: string) => process.stderr.write(`[e2e] ${line}\n`);
  const tools: Tool[] = [];
  try {
    if (!existsSync(pristine)) {
      log(`generating the dataset in ${pristine} (~1 GiB)`);
      await mkdir(dataDir, { recursive: true });
      await sh([args.script, "--out", pristine]);
    }
    await sh(["cp", "-a", pristine, src]);
    const input = await storedBytes(src);
    log(`dataset ${(input / MiB).toFixed(0)} MiB in regular files`);

    tools.push(await cairn(work, args.mode));
    if (args.peers) {
      for (const c of ["restic", "borg"])
        if (!have(c)) throw new Error(`${c} missing: apt-get install restic borgbackup`);
      tools.push(await resticRest(work), resticLocal(work), borgLocal(work));
    }
    const rows = new Map<Tool, Row>();
    for (const tool of tools) {
      await tool.init();
      rows.set(tool, {
        tool: tool.name,
        first: 0,
        unchanged: 0,
        incremental: 0,
        restore: 0,
        stored: 0,
        clientRss: 0,
        serverRss: Number.NaN,
      });
    }
    const step = async (
      tool: Tool,
      key: "first" | "unchanged" | "incremental" | "restore",
      argv: string[],
      cwd: string,
    ) => {
      const m = await measure(argv, { env: tool.env, cwd });
      const row = rows.get(tool)!;
      row[key] = m.seconds;
      row.clientRss = Math.max(row.clientRss, m.rss);
      log(
        `${tool.name}: ${key} ${m.seconds.toFixed(2)} s, client RSS ${(m.rss / MiB).toFixed(0)} MiB`,
      );
    };
    for (const tool of tools) {
      await step(tool, "first", tool.backup("g0"), src);
      await step(tool, "unchanged", tool.backup("g0b"), src);
    }
    log("mutating: make-dataset.sh --mutate --gen 1");
    await sh([args.script, "--mutate", "--gen", "1", "--out", src]);
    for (const tool of tools) await step(tool, "incremental", tool.backup("g1"), src);
    const expected = (await sh([args.script, "--manifest", "--out", src]))
      .trim()
      .split("\n")
      .at(-1);
    for (const tool of tools) {
      await rm(restoreDir, { recursive: true, force: true });
      await mkdir(restoreDir, { recursive: true });
      await step(tool, "restore", tool.restore(restoreDir), restoreDir);
      const got = (await sh([args.script, "--manifest", "--out", restoreDir]))
        .trim()
        .split("\n")
        .at(-1);
      if (got !== expected)
        log(`WARNING ${tool.name}: restored tree differs (${got} vs ${expected})`);
      const row = rows.get(tool)!;
      row.stored = await storedBytes(tool.storeDir);
      row.serverRss = await peakRss(tool.serverPid?.());
    }
    await rm(restoreDir, { recursive: true, force: true });
    report([...rows.values()], input, args.json);
  } finally {
    for (const tool of tools) await tool.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

function report(rows: Row[], input: number, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ inputBytes: input, rows }, null, 2)}\n`);
    return;
  }
  const mbs = (s: number) => `${(input / 1e6 / s).toFixed(0)} MB/s`;
  const mib = (b: number) => (Number.isNaN(b) ? "—" : `${(b / MiB).toFixed(0)} MiB`);
  const header = [
    "tool",
    "first backup",
    "unchanged",
    "incremental",
    "full restore",
    "stored",
    "client RSS",
    "server RSS",
  ];
  const lines = rows.map((r) => [
    r.tool,
    `${r.first.toFixed(2)} s (${mbs(r.first)})`,
    `${r.unchanged.toFixed(2)} s`,
    `${r.incremental.toFixed(2)} s`,
    `${r.restore.toFixed(2)} s (${mbs(r.restore)})`,
    mib(r.stored),
    mib(r.clientRss),
    mib(r.serverRss),
  ]);
  const table = (h: string[], body: string[][]) => {
    const out = [`| ${h.join(" | ")} |`, `|${h.map(() => "---").join("|")}|`];
    for (const l of body) out.push(`| ${l.join(" | ")} |`);
    return out.join("\n");
  };
  const lines2: string[] = [];
  lines2.push(`input: ${(input / MiB).toFixed(0)} MiB; MB/s = 10^6 B/s of input per wall second`);
  lines2.push(table(header, lines));
  const [c, ...peers] = rows;
  if (c && peers.length > 0) {
    lines2.push(
      "\nCairn speed-up (peer time ÷ Cairn time; > 1 is Cairn faster), stored = Cairn ÷ peer:",
    );
    lines2.push(
      table(
        ["vs", "first", "unchanged", "incremental", "restore", "stored"],
        peers.map((p) => [
          p.tool,
          `${(p.first / c.first).toFixed(2)}×`,
          `${(p.unchanged / c.unchanged).toFixed(2)}×`,
          `${(p.incremental / c.incremental).toFixed(2)}×`,
          `${(p.restore / c.restore).toFixed(2)}×`,
          `${(c.stored / p.stored).toFixed(3)}×`,
        ]),
      ),
    );
  }
  if (c) {
    const rest = peers.find((p) => p.tool.startsWith("restic →"));
    const restic = peers.find((p) => p.tool.startsWith("restic"));
    const fastest = peers.length ? Math.min(...peers.map((p) => p.first)) : Number.NaN;
    const mark = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "met" : "MISSED");
    const targets: string[][] = [
      [
        "first backup ≥ 4× restic→REST",
        rest ? `${(rest.first / c.first).toFixed(2)}×` : "—",
        mark(rest ? rest.first / c.first >= 4 : undefined),
      ],
      [
        "first backup ≥ 2× fastest peer",
        peers.length ? `${(fastest / c.first).toFixed(2)}×` : "—",
        mark(peers.length ? fastest / c.first >= 2 : undefined),
      ],
      ["unchanged ≤ 1 s", `${c.unchanged.toFixed(2)} s`, mark(c.unchanged <= 1)],
      ["incremental ≤ 2 s", `${c.incremental.toFixed(2)} s`, mark(c.incremental <= 2)],
      ["full restore ≥ 2× casync", "casync not run", "n/a"],
      [
        "stored ≤ 1.05× restic",
        restic ? `${(c.stored / restic.stored).toFixed(3)}×` : "—",
        mark(restic ? c.stored / restic.stored <= 1.05 : undefined),
      ],
      ["client peak RSS < 256 MiB", mib(c.clientRss), mark(c.clientRss < 256 * MiB)],
    ];
    lines2.push("\nTargets (bench README):");
    lines2.push(table(["target", "Cairn", "status"], targets));
  }
  process.stdout.write(`${lines2.join("\n")}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
