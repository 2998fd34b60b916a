import { PassThrough } from "node:stream";
import test from "ava";
import { ByteBudget } from "../../appliance/protocol/byte-budget.js";
import { fixedChunkPosition } from "../../appliance/protocol/fixed-session-index.js";
import { SerialQueue } from "../../appliance/protocol/serial-queue.js";
import { readStreamBody } from "../../appliance/protocol/stream-body.js";

const CHUNK = 4;

test("fixedChunkPosition places aligned chunks and names what is wrong with the others", (t) => {
  t.deepEqual(fixedChunkPosition(4, 4, 10, CHUNK), { index: 0 });
  t.deepEqual(fixedChunkPosition(8, 4, 10, CHUNK), { index: 1 });
  t.deepEqual(fixedChunkPosition(10, 2, 10, CHUNK), { index: 2 });
  t.deepEqual(fixedChunkPosition(5, 4, 10, CHUNK), {
    problem: "chunk starts at 1, not a multiple of the chunk size 4",
  });
  t.deepEqual(fixedChunkPosition(6, 2, 10, CHUNK), {
    problem: "chunk of 2 bytes at 4 is short but not the last one",
  });
  t.deepEqual(fixedChunkPosition(12, 4, 10, CHUNK), {
    problem: "chunk ends at 12, beyond the image size 10",
  });
  t.deepEqual(fixedChunkPosition(5, 5, 10, CHUNK), {
    problem: "chunk of 5 bytes, the chunk size is 4",
  });
});

test("ByteBudget grants in order and holds a request back until its bytes are free", async (t) => {
  const budget = new ByteBudget(10);
  const order: string[] = [];
  const a = await budget.acquire(6);
  const b = budget.acquire(6).then((release) => {
    order.push("b");
    return release;
  });
  const c = budget.acquire(1).then((release) => {
    order.push("c");
    return release;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(order, [], "c waits behind b although it would fit");
  a();
  (await b)();
  (await c)();
  t.deepEqual(order, ["b", "c"]);
  t.is(budget.available, 10);
  const huge = await budget.acquire(50); // larger than the budget: granted when nothing is held
  t.is(budget.available, -40);
  huge();
  huge();
  t.is(budget.available, 10, "release is idempotent");
});

test("SerialQueue runs tasks one at a time in order, past failures", async (t) => {
  const queue = new SerialQueue();
  const log: string[] = [];
  const step = (name: string, fail = false) =>
    queue.run(async () => {
      log.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
    });
  const results = await Promise.allSettled([step("a"), step("b", true), step("c")]);
  t.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  t.deepEqual(
    results.map((result) => result.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
});

test("readStreamBody stops at the first byte past the declared size", async (t) => {
  const stream = new PassThrough();
  const reading = readStreamBody(stream, { maxBytes: 10, exact: true, discard: false });
  stream.write(Buffer.alloc(8));
  stream.write(Buffer.alloc(8));
  const err = await t.throwsAsync(reading);
  t.regex(err!.message, /exceeds the declared encoded-size of 10 bytes/);
  t.true(stream.isPaused());
});

test("readStreamBody returns exact bodies whole and refuses short ones", async (t) => {
  const whole = new PassThrough();
  const reading = readStreamBody(whole, { maxBytes: 6, exact: true, discard: false });
  whole.end(Buffer.from("abcdef"));
  t.is((await reading).toString(), "abcdef");
  const short = new PassThrough();
  const shortReading = readStreamBody(short, { maxBytes: 6, exact: true, discard: false });
  short.end(Buffer.from("abc"));
  await t.throwsAsync(shortReading, { message: /has 3 bytes, the declared encoded-size is 6/ });
  const dropped = new PassThrough();
  const discarding = readStreamBody(dropped, {
    maxBytes: Number.POSITIVE_INFINITY,
    exact: false,
    discard: true,
  });
  dropped.end(Buffer.alloc(1000));
  t.is((await discarding).length, 0);
});
