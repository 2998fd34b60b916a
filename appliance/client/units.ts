const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.50 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${UNITS[unit]}`;
}

/** Decimal megabytes per second, the unit PBS prints speeds in. */
export function formatRate(bytes: number, seconds: number): string {
  return `${(seconds > 0 ? bytes / seconds / 1e6 : 0).toFixed(2)} MB/s`;
}

const SIZE_FACTORS: Record<string, number> = {
  "": 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  p: 1e15,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
  ti: 1024 ** 4,
  pi: 1024 ** 5,
};

/**
 * A byte size as PBS writes them: a number, then optionally a unit — `K`, `M`, `G`, `T`, `P`
 * decimal, with `i` binary, the trailing `B` optional, any case: "10M" = 10 000 000,
 * "1MiB" = 1 048 576, "1.5 KB" = 1500. Undefined when `text` is not one.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgtp]i?)?b?\s*$/i.exec(text);
  if (match === null) return undefined;
  const factor = SIZE_FACTORS[(match[2] ?? "").toLowerCase()]!;
  return Math.floor(Number(match[1]) * factor);
}
