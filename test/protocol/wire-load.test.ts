import test from "ava";
import { Verifier, verifySnapshot } from "../../appliance/datastore/verify.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { BackupWriterClient } from "../../appliance/protocol/client/backup-writer-client.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { ARCHIVE, MANIFEST, writeBackup } from "./fixtures/backup-flow.js";
import { dynamicCsum, MiB, manifestBlob, type Piece, sampleContent } from "./fixtures/content.js";
import { STORE, startTestServer } from "./fixtures/server.js";
import { T0 } from "./fixtures/sessions.js";

const SESSIONS = 16;

async function verifyAll(
  env: Awaited<ReturnType<typeof startTestServer>>,
  ids: string[],
): Promise<string[]> {
  const verifier = new Verifier();
  const states: string[] = [];
  for (const id of ids) {
    const result = await verifySnapshot(
      env.store,
      { ns: [], type: "vm", id, time: T0 },
      { verifier },
    );
    states.push(result.state);
  }
  return states;
}

test(`${SESSIONS} concurrent sessions of small data all finish and verify`, async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const ids = Array.from({ length: SESSIONS }, (_, i) => String(101 + i));
  await Promise.all(
    ids.map(async (id) => {
      const snapshot = { type: "vm" as const, id, time: T0 };
      const writer = await BackupWriterClient.start(env.address(token), {
        store: STORE,
        ...snapshot,
      });
      // half the sessions share their content: server-side dedup between concurrent sessions
      const content = sampleContent(Number(id) % 2 === 0 ? "shared" : id, 2 * MiB + 17);
      await writeBackup(writer, snapshot, content, { concurrent: true });
    }),
  );
  t.deepEqual(
    await verifyAll(env, ids),
    ids.map(() => "ok"),
  );
  const tasks = await env.server.tasks.list({ typefilter: "backup" }, 0, 0);
  t.is(tasks.total, SESSIONS);
  t.true(tasks.items.every((task) => task.status === "OK"));
});

/** 100 MiB of fresh data in 4 MiB dynamic chunks, uploaded with up to `depth` chunks in flight. */
async function backupHundredMiB(
  writer: BackupWriterClient,
  id: string,
  depth: number,
): Promise<number> {
  const chunkCount = 25;
  const wid = await writer.createDynamicIndex(ARCHIVE);
  const pieces: Omit<Piece, "encoded">[] = []; // encoded chunks are let go once sent
  const inFlight = new Set<Promise<unknown>>();
  let encodedBytes = 0;
  for (let i = 0; i < chunkCount; i++) {
    const data = pseudoRandomBuffer(4 * MiB, `load-${id}-${i}`);
    const { digest, encoded } = encodeChunk(data);
    const piece = {
      digest: digest.toString("hex"),
      size: data.length,
      encoded,
      offset: i * 4 * MiB,
    };
    pieces.push(piece);
    encodedBytes += encoded.length;
    const upload = writer.uploadChunk("dynamic", wid, piece);
    inFlight.add(upload);
    void upload.finally(() => inFlight.delete(upload)).catch(() => {});
    if (inFlight.size >= depth) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  for (let at = 0; at < pieces.length; at += 64) {
    await writer.appendIndex("dynamic", wid, pieces.slice(at, at + 64));
  }
  const csum = dynamicCsum(pieces);
  const size = chunkCount * 4 * MiB;
  await writer.closeIndex("dynamic", wid, { chunkCount, size, csum });
  const { encoded } = manifestBlob({ type: "vm", id, time: T0 }, [
    { filename: ARCHIVE, size, csum },
  ]);
  await writer.uploadBlob(MANIFEST, encoded);
  await writer.finish();
  return encodedBytes;
}

const loadTest = process.env.CAIRN_LOAD_TEST === "1" ? test : test.skip;

loadTest(`load: ${SESSIONS} concurrent sessions of 100 MiB each finish and verify`, async (t) => {
  t.timeout(30 * 60_000);
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const ids = Array.from({ length: SESSIONS }, (_, i) => String(201 + i));
  const started = performance.now();
  let peak = { rss: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const { rss, arrayBuffers } = process.memoryUsage();
    peak = {
      rss: Math.max(peak.rss, rss),
      arrayBuffers: Math.max(peak.arrayBuffers, arrayBuffers),
    };
  }, 100);
  const sent = await Promise.all(
    ids.map(async (id) => {
      const writer = await BackupWriterClient.start(env.address(token), {
        store: STORE,
        type: "vm",
        id,
        time: T0,
      });
      return backupHundredMiB(writer, id, 4);
    }),
  );
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const total = sent.reduce((sum, bytes) => sum + bytes, 0);
  t.log(
    `backup: ${SESSIONS} × 100 MiB in ${seconds.toFixed(1)} s = ${(total / MiB / seconds).toFixed(1)} MiB/s ` +
      "(client and server in one process); " +
      `peak rss ${(peak.rss / MiB).toFixed(0)} MiB, peak buffers ${(peak.arrayBuffers / MiB).toFixed(0)} MiB`,
  );
  const verifyStart = performance.now();
  t.deepEqual(
    await verifyAll(env, ids),
    ids.map(() => "ok"),
  );
  t.log(`verify: ${((performance.now() - verifyStart) / 1000).toFixed(1)} s`);
});
