/** The editable rows of each form screen: what the reducer moves through and edits. */
import { RETENTION_KEYS } from "../appliance/setup/plan.js";
import { RAID_LEVELS } from "../appliance/system/zfs/raid-layout.js";
import { SCHEDULE_KEYS, type Section, type State } from "./state.js";

/** One editable row of a form screen. */
export interface FieldSpec {
  section: Section;
  key: string;
  label: string;
  kind: "text" | "secret" | "choice";
  options?: readonly string[];
  /** Shown under the form when the operator presses `?` on the field. */
  help: string;
}

export function networkFields(state: State): FieldSpec[] {
  const names = state.env.interfaces.map((iface) => iface.name);
  const fields: FieldSpec[] = [
    {
      section: "network",
      key: "interface",
      label: "Interface",
      kind: "choice",
      options: names,
      help: "The management interface: clients and the web UI reach the appliance through it.",
    },
    {
      section: "network",
      key: "method",
      label: "Method",
      kind: "choice",
      options: ["static", "dhcp"],
      help: "static: a fixed address (recommended for a server); dhcp: ask the network.",
    },
  ];
  if (state.draft.network.method === "static") {
    fields.push(
      {
        section: "network",
        key: "address",
        label: "Address/CIDR",
        kind: "text",
        help: "IPv4 address with prefix length, e.g. 192.0.2.10/24.",
      },
      {
        section: "network",
        key: "gateway",
        label: "Gateway",
        kind: "text",
        help: "The default router; must lie inside the address's subnet. Empty: none.",
      },
    );
  }
  fields.push(
    {
      section: "network",
      key: "dns",
      label: "DNS servers",
      kind: "text",
      help: "Up to three name server addresses, separated by commas or spaces.",
    },
    {
      section: "network",
      key: "fqdn",
      label: "Hostname",
      kind: "text",
      help: "Fully qualified name, e.g. backup.example.com; it goes into the certificate.",
    },
  );
  return fields;
}

export const DISK_FIELDS: FieldSpec[] = [
  {
    section: "disks",
    key: "raidlevel",
    label: "Raid level",
    kind: "choice",
    options: RAID_LEVELS,
    help: "mirror: copies; raidz1-3: parity (1-3 disks may fail); raid10: striped mirrors.",
  },
  {
    section: "disks",
    key: "ashift",
    label: "Ashift",
    kind: "text",
    help: "log2 of the sector size: 12 for 4K disks (almost all), 9 for old 512-byte disks.",
  },
  {
    section: "disks",
    key: "compression",
    label: "Compression",
    kind: "text",
    help: "lz4 is fast and nearly free; backups are compressed already, so gains are small.",
  },
  {
    section: "disks",
    key: "pool",
    label: "Pool name",
    kind: "text",
    help: "The ZFS pool; it mounts below /mnt/datastore.",
  },
  {
    section: "disks",
    key: "datastore",
    label: "Datastore",
    kind: "text",
    help: "The datastore's name as clients use it in --repository user@host:DATASTORE.",
  },
];

const HELP: Record<string, string> = {
  "keep-last": "Always keep this many of the newest backups.",
  "keep-hourly": "Keep the newest backup of each of this many hours.",
  "keep-daily": "Keep the newest backup of each of this many days.",
  "keep-weekly": "Keep the newest backup of each of this many weeks (Monday to Sunday).",
  "keep-monthly": "Keep the newest backup of each of this many months.",
  "keep-yearly": "Keep the newest backup of each of this many years.",
  "gc-schedule": "When garbage collection frees chunks no backup uses (calendar event).",
  "prune-schedule": "When the retention rules are applied (calendar event, e.g. hourly).",
  "verify-schedule": "When stored backups are re-read and checked (e.g. 'sat 03:00').",
};

export const RETENTION_FIELDS: FieldSpec[] = [...RETENTION_KEYS, ...SCHEDULE_KEYS].map((key) => ({
  section: "retention",
  key,
  label: key,
  kind: "text",
  help: HELP[key] ?? "",
}));

export const ADMIN_FIELDS: FieldSpec[] = [
  {
    section: "admin",
    key: "user",
    label: "User",
    kind: "text",
    help: "name@pbs for a new administrator, or root@pam to set the superuser's password.",
  },
  {
    section: "admin",
    key: "password",
    label: "Password",
    kind: "secret",
    help: "At least 8 characters; longer with mixed kinds of characters is stronger.",
  },
  {
    section: "admin",
    key: "confirm",
    label: "Again",
    kind: "secret",
    help: "The same password again.",
  },
  {
    section: "admin",
    key: "email",
    label: "E-mail",
    kind: "text",
    help: "Optional: where failure notifications go.",
  },
];

/** Disks that can be chosen: every one but the system disk. */
export function choosableDisks(state: State) {
  return state.env.disks.filter((disk) => !disk.systemDisk);
}

/** The rows of the current screen: disk rows are `undefined` (toggled, not edited). */
export function rowsOf(state: State): (FieldSpec | undefined)[] {
  switch (state.screen) {
    case "network":
      return networkFields(state);
    case "disks":
      return [...choosableDisks(state).map(() => undefined), ...DISK_FIELDS];
    case "retention":
      return RETENTION_FIELDS;
    case "admin":
      return ADMIN_FIELDS;
    default:
      return [];
  }
}

/** The focused row, kept inside the rows the screen has now (a choice can remove rows). */
export function focusOf(state: State, rows = rowsOf(state).length): number {
  return Math.max(0, Math.min(state.focus[state.screen] ?? 0, rows - 1));
}
