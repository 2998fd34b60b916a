import type { Readable } from "node:stream";

/** A JSON answer with attributes beside `data` in the envelope (PBS's `total`, `digest`). */
export class ApiAnswer {
  constructor(
    readonly data: unknown,
    readonly attributes: Readonly<Record<string, unknown>> = {},
  ) {}
}

export interface RawAnswerOptions {
  contentType?: string;
  /** Offered as the download's file name. */
  filename?: string;
  /** Content-Length, when known in advance for a stream. */
  length?: number;
}

/** Bytes sent as they are, outside the JSON envelope (downloads). */
export class RawAnswer {
  constructor(
    readonly body: Buffer | Readable,
    readonly options: RawAnswerOptions = {},
  ) {}
}
