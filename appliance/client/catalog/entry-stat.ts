/** The `stat` lines of the catalog shell, from an entry read out of the archive itself. */
import { MODE } from "../../format/pxar/constants.js";
import type { PxarEntry } from "../../format/pxar/entries.js";

const KIND_NAMES: Record<PxarEntry["kind"], string> = {
  directory: "directory",
  file: "regular file",
  symlink: "symbolic link",
  hardlink: "hard link",
  "block-device": "block device",
  "char-device": "character device",
  fifo: "fifo",
  socket: "socket",
};

/** `entry` as `stat` shows it; a hard link is shown through the file it names (`target`). */
export function statLines(entry: PxarEntry, target?: PxarEntry): string[] {
  const shown = entry.kind === "hardlink" && target !== undefined ? target : entry;
  const lines = [`  File: ${entry.path}`];
  if (entry.kind === "hardlink") lines.push(`  Link: hard link to /${entry.target.toString()}`);
  if (shown.kind === "hardlink") return lines;
  const size = shown.kind === "file" ? shown.size : 0;
  lines.push(`  Size: ${size}  Type: ${KIND_NAMES[shown.kind]}`);
  if (shown.kind === "symlink") lines.push(`Target: ${shown.target.toString()}`);
  if (shown.kind === "block-device" || shown.kind === "char-device") {
    lines.push(`Device: ${shown.device.major},${shown.device.minor}`);
  }
  const { stat } = shown.metadata;
  const permissions = (stat.mode & 0o7777).toString(8).padStart(4, "0");
  lines.push(
    `  Mode: ${permissions} (${modeString(stat.mode)})  Uid: ${stat.uid}  Gid: ${stat.gid}`,
  );
  lines.push(`Modify: ${formatTimestamp(stat.mtime.secs, stat.mtime.nanos)}`);
  return lines;
}

/** `ls -l` style: `drwxr-xr-x`, with s/S and t/T for setuid, setgid and sticky. */
export function modeString(mode: number): string {
  const type = TYPE_LETTERS.get(mode & MODE.typeMask) ?? "?";
  const bit = (mask: number, letter: string) => (mode & mask ? letter : "-");
  const special = (exec: number, flag: number, on: string, off: string) =>
    mode & flag ? (mode & exec ? on : off) : bit(exec, "x");
  return [
    type,
    bit(0o400, "r"),
    bit(0o200, "w"),
    special(0o100, MODE.setuid, "s", "S"),
    bit(0o040, "r"),
    bit(0o020, "w"),
    special(0o010, MODE.setgid, "s", "S"),
    bit(0o004, "r"),
    bit(0o002, "w"),
    special(0o001, MODE.sticky, "t", "T"),
  ].join("");
}

const TYPE_LETTERS = new Map<number, string>([
  [MODE.regular, "-"],
  [MODE.directory, "d"],
  [MODE.symlink, "l"],
  [MODE.blockDevice, "b"],
  [MODE.charDevice, "c"],
  [MODE.fifo, "p"],
  [MODE.socket, "s"],
]);

function formatTimestamp(secs: number, nanos: number): string {
  const date = new Date(secs * 1000);
  if (Number.isNaN(date.getTime())) return `${secs}.${String(nanos).padStart(9, "0")}`;
  return `${date.toISOString().slice(0, 19)}.${String(nanos).padStart(9, "0")}Z`;
}
