import { z } from "zod";
import { fileName, sha256Hex } from "./call-params.js";
import { bytes, type CallDefinition, defineCall } from "./call-table.js";
import type { ReaderSession } from "./reader-session.js";

/** What `GET /speedtest` sends: 1 MiB of 'A', as PBS does. */
export const SPEEDTEST_PAYLOAD = Buffer.alloc(1024 * 1024, 0x41);

/** The calls of a reader session (pbs-formats.md §8, "Reader (restore) protocol"). */
export const READER_CALLS: readonly CallDefinition<ReaderSession>[] = [
  defineCall({
    method: "GET",
    path: "/download",
    parameters: z.strictObject({ "file-name": fileName("fidx", "didx", "blob") }),
    body: { kind: "parameters" },
    run: async (session: ReaderSession, params) =>
      bytes(await session.download(params["file-name"])),
  }),
  defineCall({
    method: "GET",
    path: "/chunk",
    parameters: z.strictObject({ digest: sha256Hex }),
    body: { kind: "parameters" },
    run: async (session: ReaderSession, params) => bytes(await session.chunk(params.digest)),
  }),
  defineCall({
    method: "GET",
    path: "/speedtest",
    parameters: z.strictObject({}),
    body: { kind: "parameters" },
    run: () => bytes(SPEEDTEST_PAYLOAD),
  }),
];
