/**
 * The one apply engine: executes a validated setup plan step by step and reports each step as an
 * event. The console, the answer-file mode and the tests all drive this; it calls the same system,
 * datastore and server functions the API does.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../datastore/atomic-file.js";
import { Datastore } from "../datastore/datastore.js";
import { AccessControl } from "../server/auth/access-control.js";
import { createUser, setPassword } from "../server/auth/accounts.js";
import { changeAcl } from "../server/auth/acl-admin.js";
import type { ScryptCost } from "../server/auth/password-hash.js";
import type { DatastoreEntry } from "../server/config/datastore-config.js";
import { datastoreConfigFile } from "../server/config/datastore-config.js";
import { DatastoreRegistry } from "../server/datastore-registry.js";
import { createConfiguredDatastore } from "../server/datastore-setup.js";
import { giveTreeTo } from "../server/tasks/file-owner.js";
import { ensureCertificate } from "../server/tls/certificate-files.js";
import { describeCertificate } from "../server/tls/certificate-info.js";
import type { CommandRunner } from "../system/command-runner.js";
import { Disks } from "../system/disks/disks.js";
import { detectZfsCapabilities, type ZfsCapabilities } from "../system/zfs/capabilities.js";
import { ZfsDatasets } from "../system/zfs/datasets.js";
import { createZfsDatastore, DEFAULT_MOUNT_ROOT } from "../system/zfs/zfs-datastore.js";
import { SetupError } from "./errors.js";
import { configureNetwork, currentAddress } from "./network-step.js";
import { RETENTION_KEYS, type SetupPlan } from "./plan.js";
import { writeVerifyJob } from "./verify-job.js";

export const STEPS = [
  { id: "network", label: "Network configuration" },
  { id: "pool", label: "ZFS pool" },
  { id: "dataset", label: "Datastore dataset" },
  { id: "datastore", label: "Datastore" },
  { id: "jobs", label: "Prune, GC and verify jobs" },
  { id: "admin", label: "Admin account" },
  { id: "service", label: "Certificate and service restart" },
] as const;

export type StepId = (typeof STEPS)[number]["id"];

export interface ApplyOptions {
  runner: CommandRunner;
  /** The system root the host files are written below ("/" on the appliance). */
  root: string;
  /** The server's configuration directory (/etc/cairn). */
  configDir: string;
  /** Apply live network changes inside this namespace (tests). */
  netns?: string;
  /** Where pools mount; default /mnt/datastore. */
  mountRoot?: string;
  capabilities?: ZfsCapabilities;
  /** Device types taken as disks (tests add "loop"). */
  diskTypes?: string[];
  /** Restarts the server so it picks up the new configuration; default systemctl. */
  restartService?: (runner: CommandRunner) => Promise<void>;
  /** Start at this step (a retry after a failure); earlier steps are taken as done. */
  from?: StepId;
  /** Password hashing cost (tests use a cheap one). */
  passwordCost?: ScryptCost;
  /** Create the chunk store's 65536 directories up front (default); tests skip it for speed. */
  preallocate?: boolean;
  /** RSA size of a certificate made now (tests use 2048). */
  rsaBits?: number;
  /** Written when every step succeeded, so the console starts instead of first-boot setup. */
  setupMarker?: string;
}

/** The console script's marker, below the system root. */
export const SETUP_MARKER = "var/lib/cairn/setup-complete";

/** What the operator needs once setup is done. */
export interface SetupResult {
  url: string;
  fingerprint: string;
  repository: string;
  datastorePath: string;
}

export type ApplyEvent =
  | { type: "step-start"; step: StepId; label: string }
  | { type: "step-done"; step: StepId; detail: string }
  | { type: "step-failed"; step: StepId; error: Error; completed: StepId[] }
  | { type: "finished"; result: SetupResult };

export const SERVICE_UNIT = "cairn-server.service";
export const SERVER_PORT = 8007;

async function restartWithSystemctl(runner: CommandRunner): Promise<void> {
  await runner.run("systemctl", ["restart", SERVICE_UNIT]);
}

interface Context {
  plan: SetupPlan;
  options: ApplyOptions;
  capabilities?: ZfsCapabilities;
  address?: string;
  fingerprint?: string;
}

const mountRootOf = (options: ApplyOptions) => options.mountRoot ?? DEFAULT_MOUNT_ROOT;
const datastorePathOf = (context: Context) =>
  join(mountRootOf(context.options), context.plan.disks.pool, context.plan.disks.datastore);

/**
 * Runs the plan's steps in order from `options.from`, yielding a start and a done event for each.
 * The first failure yields `step-failed` with the error and the steps completed so far, and ends
 * the run: nothing after it is attempted, and a retry resumes at the failed step.
 */
export async function* applyPlan(
  plan: SetupPlan,
  options: ApplyOptions,
): AsyncGenerator<ApplyEvent, void, undefined> {
  const context: Context = { plan, options };
  const start = options.from ? STEPS.findIndex((step) => step.id === options.from) : 0;
  if (start < 0) throw new SetupError("bad-plan", `no setup step ${options.from}`);
  const completed: StepId[] = STEPS.slice(0, start).map((step) => step.id);
  for (const step of STEPS.slice(start)) {
    yield { type: "step-start", step: step.id, label: step.label };
    let detail: string;
    try {
      detail = await RUN[step.id](context);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      yield { type: "step-failed", step: step.id, error, completed: [...completed] };
      return;
    }
    completed.push(step.id);
    yield { type: "step-done", step: step.id, detail };
  }
  const marker = options.setupMarker ?? join(options.root, SETUP_MARKER);
  await mkdir(dirname(marker), { recursive: true });
  await writeFileAtomic(marker, `${new Date().toISOString()}\n`, { fsync: true });
  const host = context.address ?? plan.network.fqdn;
  const shown = host.includes(":") ? `[${host}]` : host;
  yield {
    type: "finished",
    result: {
      url: `https://${shown}:${SERVER_PORT}`,
      fingerprint: context.fingerprint ?? "",
      repository: `${plan.admin.user}@${shown}:${SERVER_PORT}:${plan.disks.datastore}`,
      datastorePath: datastorePathOf(context),
    },
  };
}

const RUN: Record<StepId, (context: Context) => Promise<string>> = {
  network: applyNetwork,
  pool: createPool,
  dataset: createDataset,
  datastore: createDatastore,
  jobs: configureJobs,
  admin: configureAdmin,
  service: restartService,
};

async function applyNetwork(context: Context): Promise<string> {
  const { detail, address } = await configureNetwork(context.plan.network, context.options);
  context.address = address;
  return detail;
}

async function capabilitiesOf(context: Context): Promise<ZfsCapabilities> {
  context.capabilities ??=
    context.options.capabilities ?? (await detectZfsCapabilities(context.options.runner));
  return context.capabilities;
}

async function createPool(context: Context): Promise<string> {
  const { disks } = context.plan;
  const { runner } = context.options;
  const capabilities = await capabilitiesOf(context);
  for (const device of disks.wipe) await new Disks(runner).wipe(device);
  const result = await createZfsDatastore(
    {
      name: disks.pool,
      devices: disks.devices,
      raidlevel: disks.raidlevel,
      ashift: disks.ashift,
      ...(disks.compression === undefined ? {} : { compression: disks.compression }),
    },
    { runner, capabilities, mountRoot: mountRootOf(context.options) },
  );
  const wiped = disks.wipe.length > 0 ? `, wiped ${disks.wipe.join(" ")}` : "";
  return `${disks.raidlevel} pool ${result.pool} on ${disks.devices.length} disk(s)${wiped}`;
}

async function createDataset(context: Context): Promise<string> {
  const { disks } = context.plan;
  const datasets = new ZfsDatasets(context.options.runner, await capabilitiesOf(context));
  // Inherits compression and atime=on (GC needs access times) from the pool's root dataset.
  const name = `${disks.pool}/${disks.datastore}`;
  await datasets.create(name);
  return `${name} at ${datastorePathOf(context)}`;
}

function registry(context: Context): DatastoreRegistry {
  return new DatastoreRegistry(datastoreConfigFile(context.options.configDir));
}

async function createDatastore(context: Context): Promise<string> {
  const { datastore } = context.plan.disks;
  const path = datastorePathOf(context);
  if (context.options.preallocate === false) {
    // Made here without preallocation; createConfiguredDatastore adopts an existing chunk store.
    await Datastore.create(path, { name: datastore, preallocate: false });
  }
  await createConfiguredDatastore(registry(context), datastore, {
    path,
    comment: "created by cairn-setup",
  });
  return `${datastore} in ${path}`;
}

async function configureJobs(context: Context): Promise<string> {
  const { retention, disks } = context.plan;
  const settings: Partial<DatastoreEntry> = {
    "gc-schedule": retention["gc-schedule"],
    "prune-schedule": retention["prune-schedule"],
  };
  // The datastore file stores only rules in use (0 means unused, and the file wants ≥ 1).
  for (const key of RETENTION_KEYS) if (retention[key] > 0) settings[key] = retention[key];
  await registry(context).config.update((file) => {
    const entry = file.datastore[disks.datastore];
    if (entry === undefined) {
      throw new SetupError("step-failed", `datastore ${disks.datastore} is not configured`);
    }
    return { datastore: { ...file.datastore, [disks.datastore]: { ...entry, ...settings } } };
  });
  await writeVerifyJob(context.options.configDir, disks.datastore, retention["verify-schedule"]);
  const kept = RETENTION_KEYS.filter((key) => retention[key] > 0)
    .map((key) => `${key.slice(5)} ${retention[key]}`)
    .join(", ");
  return `keep ${kept}; GC ${retention["gc-schedule"]}; verify ${retention["verify-schedule"]}`;
}

async function configureAdmin(context: Context): Promise<string> {
  const { admin } = context.plan;
  const { configDir, passwordCost } = context.options;
  const access = await AccessControl.open(configDir);
  const cost = passwordCost ?? access.passwordCost;
  const users = (await access.config.users.read()).users;
  const fields = admin.email === undefined ? {} : { email: admin.email };
  if (users.has(admin.user)) await setPassword(access.config, admin.user, admin.password, cost);
  else await createUser(access.config, admin.user, fields, admin.password, cost);
  if (admin.user !== "root@pam") {
    await changeAcl(access.config, {
      path: "/",
      authId: admin.user,
      role: "Admin",
      propagate: true,
      delete: false,
    });
  }
  return `${admin.user} with the Admin role on /`;
}

async function restartService(context: Context): Promise<string> {
  const { options, plan } = context;
  context.address ??= await currentAddress(plan.network, options);
  const { pair, created } = await ensureCertificate(options.configDir, {
    hostnames: [plan.network.fqdn],
    ...(context.address ? { addresses: [context.address] } : {}),
    ...(options.rsaBits ? { rsaBits: options.rsaBits } : {}),
  });
  context.fingerprint = describeCertificate(pair.certPem).fingerprint;
  await giveToServiceUser(context);
  await (options.restartService ?? restartWithSystemctl)(options.runner);
  return `${created ? "new certificate" : "certificate kept"}, ${SERVICE_UNIT} restarted`;
}

/**
 * Setup runs as root, the daemon as the owner of the config directory (`backup` on the
 * appliance): the datastore and the configuration written now must be the daemon's.
 */
async function giveToServiceUser(context: Context): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = await stat(context.options.configDir);
  if (uid === 0) return;
  await giveTreeTo({ uid, gid }, datastorePathOf(context));
  await giveTreeTo({ uid, gid }, context.options.configDir);
}
