/**
 * The install plan: what `cairn-setup install` puts on the system disk, as one typed object. The
 * install screens and the answer file's [install] section both build it and check it here, so
 * both refuse the same values with the same words.
 */
import { z } from "zod";
import { SetupError } from "../errors.js";
import { type DiskFacts, type NetworkPlan, networkProblems, type Problem } from "../plan.js";

export const FILESYSTEMS = ["ext4", "xfs"] as const;
export type RootFilesystem = (typeof FILESYSTEMS)[number];

/** XKB layouts offered; the console and X both read them from /etc/default/keyboard. */
export const KEYMAPS = [
  "us",
  "gb",
  "de",
  "ch",
  "at",
  "fr",
  "be",
  "it",
  "es",
  "pt",
  "br",
  "nl",
  "dk",
  "no",
  "se",
  "fi",
  "is",
  "pl",
  "cz",
  "sk",
  "hu",
  "si",
  "hr",
  "ru",
  "ua",
  "tr",
  "jp",
  "latam",
  "ca",
] as const;

export interface InstallPlan {
  /** The whole disk the system goes on; everything on it is erased. */
  disk: string;
  filesystem: RootFilesystem;
  /** A zone under /usr/share/zoneinfo, e.g. Europe/Vienna. */
  timezone: string;
  keymap: string;
  /** Plain text; hashed (SHA-512 crypt) only while installing and never written as is. */
  rootPassword: string;
  /** Where the appliance sends its mail (root@pam's address). */
  email: string;
  /** The management network: the same section first-boot setup uses. */
  network: NetworkPlan;
}

/** What the machine offers; a plan is checked against it before any command runs. */
export interface InstallFacts {
  /** With the serial number, so an answer file can name a disk by it. */
  disks?: readonly (DiskFacts & { serial?: string })[];
  interfaces?: readonly string[];
  /** Time zones known to the system being copied; undefined: only the name's shape is checked. */
  timezoneExists?: (zone: string) => boolean;
  /** The smallest disk that takes the system; default MIN_SYSTEM_DISK_BYTES. */
  minDiskBytes?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The BIOS boot partition, the EFI system partition, and room for the system and its logs. */
export const MIN_SYSTEM_DISK_BYTES = 8 * GiB;
export const MIN_ROOT_PASSWORD_LENGTH = 8;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TIMEZONE = /^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2})$/;
const DEVICE_PATH = /^\/dev\/[A-Za-z0-9_./:-]+$/;

export function installProblems(plan: InstallPlan, facts: InstallFacts = {}): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, message: string) =>
    problems.push({ field: `install.${field}`, message });
  const diskProblem = systemDiskProblem(plan.disk, facts);
  if (diskProblem) add("disk", diskProblem);
  if (!FILESYSTEMS.includes(plan.filesystem)) add("filesystem", "must be ext4 or xfs");
  if (!TIMEZONE.test(plan.timezone)) add("timezone", "must be a zone name like Europe/Vienna");
  else if (facts.timezoneExists && !facts.timezoneExists(plan.timezone)) {
    add("timezone", `${plan.timezone} is not a known time zone`);
  }
  if (!(KEYMAPS as readonly string[]).includes(plan.keymap)) {
    add("keymap", `must be one of ${KEYMAPS.join(", ")}`);
  }
  if (plan.rootPassword.length < MIN_ROOT_PASSWORD_LENGTH) {
    add("root-password", `must be at least ${MIN_ROOT_PASSWORD_LENGTH} characters`);
  } else if (/[\n\r:]/.test(plan.rootPassword)) {
    // chpasswd reads "user:hash" lines, openssl one password per line.
    add("root-password", "must not contain a line break or a colon");
  }
  if (!EMAIL.test(plan.email)) add("email", "must be an e-mail address like ops@example.com");
  return [...problems, ...networkProblems(plan.network, facts)];
}

/** Why this disk cannot take the system, or undefined when it can. */
export function systemDiskProblem(path: string, facts: InstallFacts = {}): string | undefined {
  if (path === "") return "choose the disk to install on";
  if (!DEVICE_PATH.test(path) || path.includes("..")) {
    return "must be a device path like /dev/sda";
  }
  if (!facts.disks) return undefined;
  const disk = facts.disks.find((candidate) => candidate.path === path);
  if (!disk) return `${path} is not a disk of this machine`;
  if (disk.systemDisk) return `${path} is the disk the running system is on`;
  if (disk.used === "mounted") return `${path} is in use (mounted)`;
  const minimum = facts.minDiskBytes ?? MIN_SYSTEM_DISK_BYTES;
  if (disk.size < minimum) {
    return `${path} is too small (${gib(disk.size)}; at least ${gib(minimum)} needed)`;
  }
  return undefined;
}

const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

const networkSchema = z.strictObject({
  interface: z.string(),
  method: z.enum(["dhcp", "static"]),
  address: z.string().optional(),
  gateway: z.string().optional(),
  dns: z.array(z.string()).default([]),
  fqdn: z.string(),
});

const installSchema = z.strictObject({
  disk: z.string(),
  filesystem: z.string(),
  timezone: z.string().default("UTC"),
  keymap: z.string().default("us"),
  rootPassword: z.string(),
  email: z.string(),
  network: networkSchema,
});

/** The checked plan with defaults filled in; throws a SetupError naming the first bad field. */
export function validateInstallPlan(value: unknown, facts: InstallFacts = {}): InstallPlan {
  const parsed = installSchema.safeParse(value);
  const problems: Problem[] = parsed.success
    ? installProblems(parsed.data as InstallPlan, facts)
    : parsed.error.issues.map((issue) => ({
        field: issue.path.join(".") || "(plan)",
        message:
          issue.code === "unrecognized_keys"
            ? `unknown key ${issue.keys.join(", ")}`
            : issue.message,
      }));
  const first = problems[0];
  if (first || !parsed.success) {
    throw new SetupError("bad-plan", `${first?.field}: ${first?.message}`, {
      field: first?.field,
      problems,
    });
  }
  const plan = parsed.data as InstallPlan;
  if (plan.network.method === "dhcp") {
    delete plan.network.address;
    delete plan.network.gateway;
  }
  if (plan.network.gateway === "") delete plan.network.gateway;
  return plan;
}

/** The plan as it may be logged. */
export function withoutRootPassword(plan: InstallPlan): InstallPlan {
  return { ...plan, rootPassword: "(hidden)" };
}
