import type { Terminal } from "./terminal.js";
import { formatBytes, formatRate } from "./units.js";
import type { UploadStats } from "./upload-stats.js";

/** Redraws at most this often. */
const REDRAW_MS = 500;

/** The progress line of a backup on a terminal, and the summary line at its end. */
export class BackupProgress {
  readonly #terminal: Terminal;
  readonly #started = performance.now();
  #lastDraw = 0;

  constructor(terminal: Terminal) {
    this.#terminal = terminal;
  }

  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** `finished`: the archives already done; `current`: the one running. */
  update(finished: UploadStats, current: UploadStats): void {
    const now = performance.now();
    if (!this.#terminal.interactive || now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    const bytes = finished.bytes + current.bytes;
    const uploaded = finished.uploadedBytes + current.uploadedBytes;
    this.#terminal.status(
      `${formatBytes(bytes)} read, ${formatBytes(uploaded)} new, ${dedupShare(bytes, uploaded)} deduplicated, ${formatRate(bytes, this.seconds)}`,
    );
  }

  /** Clears the progress line and prints the summary. */
  summary(total: UploadStats): string {
    if (this.#terminal.interactive) this.#terminal.status("");
    const seconds = this.seconds;
    return `${formatBytes(total.bytes)} read, ${formatBytes(total.uploadedBytes)} uploaded in ${total.uploadedChunks} of ${total.chunks} chunks (${formatBytes(total.encodedBytes)} encoded), ${dedupShare(total.bytes, total.uploadedBytes)} deduplicated, ${seconds.toFixed(2)} s, ${formatRate(total.bytes, seconds)}`;
  }
}

function dedupShare(bytes: number, uploaded: number): string {
  return `${bytes === 0 ? "0.0" : ((1 - uploaded / bytes) * 100).toFixed(1)}%`;
}
