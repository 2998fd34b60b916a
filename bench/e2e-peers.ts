/**
 * The peers of `bench/e2e.ts`: restic (local, and over HTTPS to a REST server on 127.0.0.1) and
 * BorgBackup (local, zstd 3), run on the same tree in the same run as Cairn.
 *
 * Debian bookworm does not package restic's `rest-server`; when it is not on PATH, a minimal
 * implementation of restic's REST protocol (v2) in this file serves the repository over TLS 1.3 with
 * a self-signed certificate instead, and the row says so.
 */
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

/** What the bench needs to drive one tool: each call runs one CLI and returns nothing. */
export interface Tool {
  name: string;
  /** Environment for every command of this tool. */
  env: NodeJS.ProcessEnv;
  init(): Promise<void>;
  /** argv of a backup of `dir` (run with cwd = dir). */
  backup(label: string): string[];
  /** argv of a full restore of the latest backup into `target` (run with cwd = target). */
  restore(target: string): string[];
  /** Directory whose size is the bytes stored. */
  storeDir: string;
  /** Pid of a server process to sample, if any. */
  serverPid?: () => number | undefined;
  stop(): Promise<void>;
}

export function have(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Runs a command without blocking the event loop (the stand-in REST server lives in it). */
function run(argv: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${argv.join(" ")} failed: ${err}`)),
    );
  });
}

export function resticLocal(work: string): Tool {
  const repo = join(work, "restic-local");
  const env = {
    ...process.env,
    RESTIC_PASSWORD: "bench",
    RESTIC_REPOSITORY: repo,
    RESTIC_CACHE_DIR: join(work, "restic-cache-local"),
  };
  return {
    name: "restic, local",
    env,
    storeDir: repo,
    init: () => run(["restic", "init"], env),
    backup: () => ["restic", "backup", "--quiet", "--host", "bench", "."],
    restore: (target) => ["restic", "restore", "latest", "--quiet", "--target", target],
    stop: async () => {},
  };
}

export function borgLocal(work: string): Tool {
  const repo = join(work, "borg");
  const env = {
    ...process.env,
    BORG_PASSPHRASE: "bench",
    BORG_REPO: repo,
    BORG_BASE_DIR: join(work, "borg-base"),
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
    BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
  };
  return {
    name: "borg 1.2, zstd 3, local",
    env,
    storeDir: repo,
    init: () => run(["borg", "init", "--encryption=repokey", repo], env),
    backup: (label) => ["borg", "create", "--compression", "zstd,3", `::${label}`, "."],
    restore: () => ["sh", "-c", 'borg extract "::$(borg list --last 1 --short)"'],
    stop: async () => {},
  };
}

/** A self-signed certificate for 127.0.0.1, made with openssl. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  await run(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    process.env,
  );
  return { cert, key };
}

const TYPES = new Set(["data", "keys", "locks", "snapshots", "index"]);
const V2 = "application/vnd.x.restic.rest.v2";

/** Minimal restic REST server (protocol v2, flat layout) over HTTPS; enough for backup and restore. */
export async function startRestServer(
  root: string,
  tls: { cert: string; key: string },
): Promise<{ server: Server; port: number }> {
  const file = (type: string, name: string) => join(root, type, name);
  const server = createServer(
    { cert: await readFile(tls.cert), key: await readFile(tls.key), minVersion: "TLSv1.3" },
    (req, res) => {
      const fail = (code: number) => {
        res.statusCode = code;
        res.end();
      };
      const handle = async () => {
        const url = new URL(req.url ?? "/", "https://x");
        const parts = url.pathname.split("/").filter(Boolean);
        const method = req.method ?? "GET";
        if (parts.length === 0 && method === "POST") {
          for (const t of TYPES) await mkdir(join(root, t), { recursive: true });
          return fail(200);
        }
        let path: string;
        if (parts.length === 1 && parts[0] === "config") path = join(root, "config");
        else if (parts.length === 1 && TYPES.has(parts[0]!) && method === "GET") {
          const dir = join(root, parts[0]!);
          const names = await readdir(dir).catch(() => [] as string[]);
          const v2 = (req.headers.accept ?? "").includes(V2);
          const body = v2
            ? await Promise.all(
                names.map(async (name) => ({ name, size: (await stat(join(dir, name))).size })),
              )
            : names;
          res.setHeader("Content-Type", v2 ? V2 : "application/vnd.x.restic.rest.v1");
          return res.end(JSON.stringify(body));
        } else if (parts.length === 2 && TYPES.has(parts[0]!) && /^[0-9a-f]+$/.test(parts[1]!))
          path = file(parts[0]!, parts[1]!);
        else return fail(400);
        if (method === "POST") {
          const tmp = `${path}.tmp-${process.hrtime.bigint()}`;
          await pipeline(req, createWriteStream(tmp));
          await rename(tmp, path);
          return fail(200);
        }
        if (method === "DELETE") {
          await rm(path, { force: true });
          return fail(200);
        }
        const st = await stat(path).catch(() => undefined);
        if (!st) return fail(404);
        if (method === "HEAD") {
          res.setHeader("Content-Length", st.size);
          return res.end();
        }
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
        let start = 0;
        let end = st.size - 1;
        if (range) {
          start = Number(range[1]);
          if (range[2]) end = Math.min(end, Number(range[2]));
          res.statusCode = 206;
          res.setHeader("Content-Range", `bytes ${start}-${end}/${st.size}`);
        }
        res.setHeader("Content-Length", Math.max(0, end - start + 1));
        res.setHeader("Content-Type", "application/octet-stream");
        if (end < start) return res.end();
        await pipeline(createReadStream(path, { start, end }), res);
      };
      handle().catch(() => {
        if (!res.headersSent) fail(500);
        else res.destroy();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export async function resticRest(work: string): Promise<Tool> {
  const root = join(work, "restic-rest");
  await mkdir(root, { recursive: true });
  const tls = await selfSignedCert(work);
  const external = have("rest-server");
  let stopServer: () => Promise<void>;
  let port: number;
  let pid: number | undefined;
  if (external) {
    port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
      "rest-server",
      [
        "--path",
        root,
        "--listen",
        `127.0.0.1:${port}`,
        "--tls",
        "--tls-cert",
        tls.cert,
        "--tls-key",
        tls.key,
        "--no-auth",
      ],
      { stdio: "ignore" },
    );
    pid = child.pid;
    await new Promise((r) => setTimeout(r, 500));
    stopServer = async () => {
      child.kill("SIGTERM");
    };
  } else {
    const started = await startRestServer(root, tls);
    port = started.port;
    pid = undefined; // in this process: its RSS would be the bench's
    stopServer = () => new Promise((resolve) => started.server.close(() => resolve()));
  }
  const env = {
    ...process.env,
    RESTIC_PASSWORD: "bench",
    RESTIC_REPOSITORY: `rest:https://127.0.0.1:${port}/`,
    RESTIC_CACHE_DIR: join(work, "restic-cache-rest"),
  };
  return {
    name: external ? "restic → rest-server, TLS" : "restic → REST (stand-in), TLS 1.3",
    env,
    storeDir: root,
    serverPid: () => pid,
    init: () => run(["restic", "init", "--cacert", tls.cert], env),
    backup: () => ["restic", "backup", "--quiet", "--cacert", tls.cert, "--host", "bench", "."],
    restore: (target) => [
      "restic",
      "restore",
      "latest",
      "--quiet",
      "--cacert",
      tls.cert,
      "--target",
      target,
    ],
    stop: stopServer,
  };
}
