/**
 * The setup plan: everything first-boot setup will do, as one typed object. The console screens
 * and the answer file both build it, and both check it with the functions here, so a value the
 * screens refuse is refused by the answer file with the same words.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { validateDatastoreName } from "../datastore/names.js";
import { PRUNE_RULES } from "../datastore/prune.js";
import { parseUserId } from "../server/auth/auth-id.js";
import { inSubnet, isFqdn, parseCidr } from "../system/network/cidr.js";
import { validatePoolName } from "../system/zfs/names.js";
import { RAID_LEVELS, type RaidLevel } from "../system/zfs/raid-layout.js";
import { raidProblem } from "./capacity.js";
import { SetupError } from "./errors.js";

/** One refused value: `field` is the dotted plan path, which is also the answer-file key. */
export interface Problem {
  field: string;
  message: string;
}

export const RETENTION_KEYS = PRUNE_RULES.map((rule) => rule.name);
export type RetentionKey = (typeof RETENTION_KEYS)[number];

export interface NetworkPlan {
  interface: string;
  method: "dhcp" | "static";
  /** Address with prefix, e.g. 192.0.2.10/24; static only. */
  address?: string;
  /** Default gateway inside the address's subnet; static only. */
  gateway?: string;
  /** Up to three name servers. */
  dns: string[];
  fqdn: string;
}

export interface DisksPlan {
  devices: string[];
  raidlevel: RaidLevel;
  ashift: number;
  /** Undefined: the best this ZFS offers (lz4 on OpenZFS). */
  compression?: string;
  pool: string;
  datastore: string;
  /** Devices the operator confirmed may be wiped; every selected disk holding data must be here. */
  wipe: string[];
}

export type RetentionPlan = Record<RetentionKey, number> & {
  "gc-schedule": string;
  "prune-schedule": string;
  "verify-schedule": string;
};

export interface AdminPlan {
  /** A user id: `name@pbs`, or `root@pam` to set the superuser's password. */
  user: string;
  password: string;
  email?: string;
}

export interface SetupPlan {
  network: NetworkPlan;
  disks: DisksPlan;
  retention: RetentionPlan;
  admin: AdminPlan;
}

/** A disk as validation needs to know it (a subset of the system layer's DiskInfo). */
export interface DiskFacts {
  path: string;
  size: number;
  systemDisk: boolean;
  /** "unused", or what holds data on it. */
  used: string;
}

/** What the machine offers; plans are checked against it when it is known. */
export interface SetupFacts {
  disks?: readonly DiskFacts[];
  interfaces?: readonly string[];
  /** Compression values this ZFS accepts, as capability strings ("gzip-[1-9]" expanded by caller). */
  compressionSupported?: (value: string) => boolean;
}

export const DEFAULT_RETENTION: RetentionPlan = {
  "keep-last": 3,
  "keep-hourly": 24,
  "keep-daily": 7,
  "keep-weekly": 4,
  "keep-monthly": 6,
  "keep-yearly": 1,
  "gc-schedule": "daily",
  "prune-schedule": "hourly",
  "verify-schedule": "sat 03:00",
};

export const DEFAULT_ADMIN_USER = "admin@pbs";
export const MIN_PASSWORD_LENGTH = 8;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The characters PBS calendar events use; the scheduler's parser has the last word. */
const SCHEDULE = /^[A-Za-z0-9*:.,/~ -]{1,256}$/;
const COMPRESSION = /^(on|off|lz4|lzjb|zle|zstd(-\d{1,2})?|gzip(-[1-9])?)$/;

// ---- per section: every problem at once, so a screen can mark each field ----

export function networkProblems(network: NetworkPlan, facts: SetupFacts = {}): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, message: string) =>
    problems.push({ field: `network.${field}`, message });
  if (facts.interfaces && !facts.interfaces.includes(network.interface)) {
    add("interface", `${network.interface || "(none)"} is not an interface of this machine`);
  } else if (!/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(network.interface)) {
    add("interface", "must be an interface name like eth0");
  }
  if (network.method === "static") {
    const cidr = attempt(() => parseCidr(network.address ?? "", "address"));
    if (network.address === undefined || network.address === "") {
      add("address", "a static address is required, e.g. 192.0.2.10/24");
    } else if (cidr === undefined || cidr.family !== 4) {
      add("address", "must be an IPv4 address with a /prefix, e.g. 192.0.2.10/24");
    } else if (network.gateway !== undefined && network.gateway !== "") {
      if (isIP(network.gateway) !== 4) add("gateway", "must be an IPv4 address");
      else if (!inSubnet(cidr, network.gateway)) {
        add("gateway", `${network.gateway} is outside the subnet of ${network.address}`);
      } else if (network.gateway === cidr.address) {
        add("gateway", "must not be the appliance's own address");
      }
    }
  } else {
    if (network.address) add("address", "is set only with method static");
    if (network.gateway) add("gateway", "is set only with method static");
  }
  if (network.dns.length > 3) add("dns", "at most three name servers");
  const badDns = network.dns.find((server) => isIP(server) === 0);
  if (badDns !== undefined) add("dns", `${JSON.stringify(badDns)} is not an IP address`);
  if (!isFqdn(network.fqdn)) add("fqdn", "must be a fully qualified name like backup.example.com");
  return problems;
}

export function diskProblems(disks: DisksPlan, facts: SetupFacts = {}): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, message: string) =>
    problems.push({ field: `disks.${field}`, message });
  if (disks.devices.length === 0) add("devices", "select at least one disk");
  else {
    const rule = raidProblem(disks.raidlevel, disks.devices.length);
    if (rule) add("raidlevel", rule);
  }
  const known = facts.disks;
  for (const device of disks.devices) {
    const disk = known?.find((candidate) => candidate.path === device);
    if (known && !disk) add("devices", `${device} is not a disk of this machine`);
    else if (disk?.systemDisk) add("devices", `${device} is the system disk`);
    else if (disk && disk.used !== "unused" && !disks.wipe.includes(device)) {
      add("wipe", `${device} holds data (${disk.used}); confirm wiping it`);
    }
  }
  const stray = disks.wipe.find((device) => !disks.devices.includes(device));
  if (stray !== undefined) add("wipe", `${stray} is not one of the selected devices`);
  if (!Number.isInteger(disks.ashift) || disks.ashift < 9 || disks.ashift > 16) {
    add("ashift", "must be a whole number from 9 to 16 (12 for 4K-sector disks)");
  }
  if (disks.compression !== undefined) {
    const supported = facts.compressionSupported ?? ((value) => COMPRESSION.test(value));
    if (!supported(disks.compression)) {
      add("compression", `${disks.compression} is not offered by this ZFS`);
    }
  }
  const poolProblem = problemOf(() => validatePoolName(disks.pool));
  if (poolProblem) add("pool", poolProblem);
  const storeProblem = problemOf(() => validateDatastoreName(disks.datastore));
  if (storeProblem) add("datastore", storeProblem);
  return problems;
}

export function retentionProblems(retention: RetentionPlan): Problem[] {
  const problems: Problem[] = [];
  for (const key of RETENTION_KEYS) {
    const value = retention[key];
    if (!Number.isSafeInteger(value) || value < 0) {
      problems.push({ field: `retention.${key}`, message: "must be a whole number (0: not used)" });
    }
  }
  if (RETENTION_KEYS.every((key) => retention[key] === 0)) {
    problems.push({ field: "retention.keep-last", message: "keep at least one backup" });
  }
  for (const key of ["gc-schedule", "prune-schedule", "verify-schedule"] as const) {
    if (!SCHEDULE.test(retention[key])) {
      problems.push({
        field: `retention.${key}`,
        message: "must be a calendar event like daily, hourly or 'sat 03:00'",
      });
    }
  }
  return problems;
}

export function adminProblems(admin: AdminPlan): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, message: string) =>
    problems.push({ field: `admin.${field}`, message });
  const parsed = attempt(() => parseUserId(admin.user, "user"));
  if (parsed === undefined) add("user", "must be a user id like admin@pbs");
  else if (parsed.realm !== "pbs" && admin.user !== "root@pam") {
    add("user", "must be in realm pbs (name@pbs), or root@pam");
  }
  if (admin.password.length < MIN_PASSWORD_LENGTH) {
    add("password", `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (admin.email !== undefined && admin.email !== "" && !EMAIL.test(admin.email)) {
    add("email", "must be an e-mail address like ops@example.com");
  }
  return problems;
}

/** The screen's second password entry; the answer file has only one. */
export function confirmProblem(password: string, confirm: string): Problem | undefined {
  return password === confirm
    ? undefined
    : { field: "admin.confirm", message: "the two passwords differ" };
}

export type PasswordStrength = "weak" | "fair" | "strong";

/** A hint only: length and character classes, never a reason to refuse. */
export function passwordStrength(password: string): PasswordStrength {
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password));
  if (password.length >= 14 && classes.length >= 3) return "strong";
  if (password.length >= 10 && classes.length >= 2) return "fair";
  return "weak";
}

// ---- the whole plan ----

const count = z.number().int().min(0);

const planSchema = z.strictObject({
  network: z.strictObject({
    interface: z.string(),
    method: z.enum(["dhcp", "static"]),
    address: z.string().optional(),
    gateway: z.string().optional(),
    dns: z.array(z.string()).default([]),
    fqdn: z.string(),
  }),
  disks: z.strictObject({
    devices: z.array(z.string()),
    raidlevel: z.enum(RAID_LEVELS),
    ashift: z.number().int().default(12),
    compression: z.string().optional(),
    pool: z.string(),
    datastore: z.string(),
    wipe: z.array(z.string()).default([]),
  }),
  retention: z
    .strictObject({
      "keep-last": count.default(DEFAULT_RETENTION["keep-last"]),
      "keep-hourly": count.default(DEFAULT_RETENTION["keep-hourly"]),
      "keep-daily": count.default(DEFAULT_RETENTION["keep-daily"]),
      "keep-weekly": count.default(DEFAULT_RETENTION["keep-weekly"]),
      "keep-monthly": count.default(DEFAULT_RETENTION["keep-monthly"]),
      "keep-yearly": count.default(DEFAULT_RETENTION["keep-yearly"]),
      "gc-schedule": z.string().default(DEFAULT_RETENTION["gc-schedule"]),
      "prune-schedule": z.string().default(DEFAULT_RETENTION["prune-schedule"]),
      "verify-schedule": z.string().default(DEFAULT_RETENTION["verify-schedule"]),
    })
    .default(DEFAULT_RETENTION),
  admin: z.strictObject({
    user: z.string().default(DEFAULT_ADMIN_USER),
    password: z.string(),
    email: z.string().optional(),
  }),
});

/** Every problem of a plan: shape and types first, then the rules each screen applies. */
export function planProblems(value: unknown, facts: SetupFacts = {}): Problem[] {
  const parsed = planSchema.safeParse(value);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({
      field: issue.path.join(".") || "(plan)",
      message:
        issue.code === "unrecognized_keys" ? `unknown key ${issue.keys.join(", ")}` : issue.message,
    }));
  }
  const plan = parsed.data as SetupPlan;
  return [
    ...networkProblems(plan.network, facts),
    ...diskProblems(plan.disks, facts),
    ...retentionProblems(plan.retention),
    ...adminProblems(plan.admin),
  ];
}

/** The checked plan, with defaults filled in; throws a SetupError naming the first bad field. */
export function validatePlan(value: unknown, facts: SetupFacts = {}): SetupPlan {
  const problems = planProblems(value, facts);
  const first = problems[0];
  if (first) {
    throw new SetupError("bad-plan", `${first.field}: ${first.message}`, {
      field: first.field,
      problems,
    });
  }
  const plan = planSchema.parse(value) as SetupPlan;
  // An empty optional means "not set", whichever front end sent it.
  if (plan.network.method === "dhcp") {
    delete plan.network.address;
    delete plan.network.gateway;
  }
  if (plan.network.gateway === "") delete plan.network.gateway;
  if (plan.admin.email === "") delete plan.admin.email;
  if (plan.disks.compression === "") delete plan.disks.compression;
  return plan;
}

/** The address the appliance answers on, without prefix (static plans only). */
export function staticAddress(network: NetworkPlan): string | undefined {
  return network.address?.split("/")[0];
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The rule part of a thrown validation error ("invalid pool name "x": <rule>"). */
function problemOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/^invalid [^"]*"[^"]*": /, "");
  }
}
