import test from "ava";
import { BatchLookahead } from "../../../appliance/client/archive/lookahead.js";

/** Takes every item in order as the walk does, recording what was read ahead meanwhile. */
async function walk(
  items: number[],
  depth: number,
  batchSize: number,
  ahead = (_: number) => true,
) {
  const batches: number[][] = [];
  let mostNotTaken = 0;
  // the item being taken: those after it that were read are not taken yet
  let taking = -1;
  const lookahead = new BatchLookahead(items, {
    depth,
    batchSize,
    ahead,
    read: async (batch) => {
      batches.push(batch);
      const notTaken = batches.flat().filter((item) => item > taking).length;
      mostNotTaken = Math.max(mostNotTaken, notTaken);
      return batch.map((item) => item * 10);
    },
  });
  const results: (number | undefined)[] = [];
  for (const [index] of items.entries()) {
    taking = index;
    results.push(await lookahead.take(index));
  }
  await lookahead.settle();
  return { batches, mostNotTaken, results };
}

const items = Array.from({ length: 50 }, (_, index) => index);

test("items are read in whole batches, never more than depth ahead, taken back in order", async (t) => {
  const { batches, mostNotTaken, results } = await walk(items, 32, 16);
  t.deepEqual(
    batches.map((batch) => batch.length),
    [16, 16, 16, 2],
  );
  t.true(mostNotTaken <= 32);
  t.deepEqual(
    results,
    items.map((item) => item * 10),
  );
});

test("items not to be read ahead are left to the caller and do not count", async (t) => {
  const odd = (item: number) => item % 2 === 1;
  const { batches, results } = await walk(items, 4, 2, odd);
  t.true(batches.flat().every(odd));
  t.deepEqual(
    results,
    items.map((item) => (odd(item) ? item * 10 : undefined)),
  );
});

test("a depth of 0 reads nothing ahead; a bad batch size is refused", async (t) => {
  const { batches, results } = await walk(items, 0, 16);
  t.deepEqual(batches, []);
  t.true(results.every((result) => result === undefined));
  t.throws(
    () =>
      new BatchLookahead(items, {
        depth: 4,
        batchSize: 0,
        ahead: () => true,
        read: async () => [],
      }),
    {
      instanceOf: RangeError,
    },
  );
});
