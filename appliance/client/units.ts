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
