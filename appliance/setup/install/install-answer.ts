/**
 * The answer file for an unattended install: the first-boot sections ([network], [disks],
 * [retention], [admin]) plus [install] for the system disk, checked as the screens check them.
 * Errors name the key.
 */
import { parse, stringify, TomlError } from "smol-toml";
import { SetupError } from "../errors.js";
import { type Problem, type SetupPlan, validatePlan } from "../plan.js";
import {
  type InstallFacts,
  type InstallPlan,
  MIN_SYSTEM_DISK_BYTES,
  validateInstallPlan,
} from "./install-plan.js";

/** The [install] keys besides the disk; one of DISK_KEYS chooses the disk. */
const INSTALL_KEYS = ["filesystem", "timezone", "keymap", "root-password", "email"] as const;
/** A device path, a serial number (stable across boots), or the smallest/largest eligible disk. */
const DISK_KEYS = ["disk", "disk-serial", "disk-select"] as const;
const SELECTORS = ["smallest", "largest"] as const;

export interface InstallAnswer {
  install: InstallPlan;
  /** The first-boot plan the installed system applies on its first start. */
  firstboot: SetupPlan;
  /** The answer file without [install] (no root password), for the installed system. */
  firstbootText: string;
}

function refuse(key: string, message: string, problems?: Problem[]): never {
  throw new SetupError("bad-answer-file", `answer file key ${key}: ${message}`, {
    field: key,
    ...(problems ? { problems } : {}),
  });
}

function parseToml(text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new SetupError("bad-answer-file", `not valid TOML${where}: ${first}`, {}, { cause: err });
  }
}

/** The disk the [install] section names, by path, by serial or by a size rule over eligible disks. */
export function chooseSystemDisk(
  section: Record<string, unknown>,
  facts: InstallFacts,
  exclude: readonly string[] = [],
): string {
  const given = DISK_KEYS.filter((key) => section[key] !== undefined);
  if (given.length !== 1) {
    refuse("install.disk", `give exactly one of ${DISK_KEYS.join(", ")}`);
  }
  const key = given[0]!;
  const value = section[key];
  if (typeof value !== "string") refuse(`install.${key}`, "must be a string");
  if (key === "disk") return value;
  const disks = facts.disks ?? [];
  if (key === "disk-serial") {
    const found = disks.filter((disk) => disk.serial === value);
    if (found.length !== 1) refuse("install.disk-serial", `no single disk has serial ${value}`);
    return found[0]!.path;
  }
  if (!(SELECTORS as readonly string[]).includes(value)) {
    refuse("install.disk-select", `must be one of ${SELECTORS.join(", ")}`);
  }
  const minimum = facts.minDiskBytes ?? MIN_SYSTEM_DISK_BYTES;
  const eligible = disks
    .filter((disk) => !disk.systemDisk && disk.used !== "mounted" && disk.size >= minimum)
    .filter((disk) => !exclude.includes(disk.path))
    .sort((a, b) => a.size - b.size || a.path.localeCompare(b.path));
  const chosen = value === "smallest" ? eligible[0] : eligible.at(-1);
  if (!chosen) refuse("install.disk-select", "no disk is free and large enough");
  return chosen.path;
}

/** Parses and checks the whole answer file; throws a SetupError naming the first bad key. */
export function installAnswerFromText(text: string, facts: InstallFacts = {}): InstallAnswer {
  const document = parseToml(text);
  const { install, ...rest } = document;
  if (install === undefined || typeof install !== "object" || Array.isArray(install)) {
    refuse("install", "the [install] section is missing");
  }
  const section = install as Record<string, unknown>;
  const unknown = Object.keys(section).filter(
    (key) => !([...INSTALL_KEYS, ...DISK_KEYS] as readonly string[]).includes(key),
  );
  if (unknown.length > 0) refuse(`install.${unknown[0]}`, "unknown key");
  let firstboot: SetupPlan;
  try {
    // Datastore disks are checked against the machine by first-boot setup, once installed.
    firstboot = validatePlan(rest, {
      ...(facts.interfaces ? { interfaces: facts.interfaces } : {}),
    });
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    refuse(String(err.context.field ?? "(plan)"), err.message.replace(/^[^:]*: /, ""));
  }
  const datastoreDisks = firstboot.disks.devices;
  const disk = chooseSystemDisk(section, facts, datastoreDisks);
  if (datastoreDisks.includes(disk)) {
    refuse("install.disk", `${disk} is also one of disks.devices`);
  }
  const candidate = {
    disk,
    filesystem: section.filesystem ?? "ext4",
    timezone: section.timezone ?? "UTC",
    keymap: section.keymap ?? "us",
    rootPassword: section["root-password"],
    email: section.email,
    network: firstboot.network,
  };
  let plan: InstallPlan;
  try {
    plan = validateInstallPlan(candidate, facts);
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    const field = String(err.context.field ?? "install")
      .replace(/^rootPassword$/, "install.root-password")
      .replace(/^(disk|filesystem|timezone|keymap|email)$/, "install.$1");
    refuse(field, err.message.replace(/^[^:]*: /, ""), err.context.problems as Problem[]);
  }
  return { install: plan, firstboot, firstbootText: stringify(rest) };
}
