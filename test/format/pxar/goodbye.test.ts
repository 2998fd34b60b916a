import test from "ava";
import { PXAR } from "../../../appliance/format/pxar/constants.js";
import {
  bstLayout,
  decodeGoodbyeRecords,
  encodeGoodbye,
  findHash,
  type GoodbyeRecord,
  treeOrder,
} from "../../../appliance/format/pxar/goodbye.js";

/** Permutations from pxar's own binary-tree-array unit test (pxar-format.md §5). */
const UPSTREAM_LAYOUTS: Record<number, number[]> = {
  1: [0],
  2: [1, 0],
  3: [1, 0, 2],
  4: [2, 1, 3, 0],
  5: [3, 1, 4, 0, 2],
  6: [3, 1, 5, 0, 2, 4],
  7: [3, 1, 5, 0, 2, 4, 6],
  8: [4, 2, 6, 1, 3, 5, 7, 0],
  9: [5, 3, 7, 1, 4, 6, 8, 0, 2],
  10: [6, 3, 8, 1, 5, 7, 9, 0, 2, 4],
  17: [9, 5, 13, 3, 7, 11, 15, 1, 4, 6, 8, 10, 12, 14, 16, 0, 2],
};

for (const [n, layout] of Object.entries(UPSTREAM_LAYOUTS)) {
  test(`tree layout of ${n} records matches pxar`, (t) => {
    t.deepEqual(bstLayout(Number(n)), layout);
  });
}

test("every layout up to 600 is a search tree over the sorted records", (t) => {
  for (let n = 0; n <= 600; n++) {
    const layout = bstLayout(n);
    t.deepEqual(
      [...layout].sort((a, b) => a - b),
      [...Array(n).keys()],
    );
    for (let i = 0; i < n; i++) {
      const left = 2 * i + 1;
      const right = 2 * i + 2;
      if (left < n && !(layout[left]! < layout[i]!)) t.fail(`n=${n} i=${i} left`);
      if (right < n && !(layout[right]! > layout[i]!)) t.fail(`n=${n} i=${i} right`);
    }
  }
  t.pass();
});

test("encodeGoodbye writes records in tree order with backwards offsets and the tail", (t) => {
  const children = [
    { hash: 30n, start: 100, size: 10 },
    { hash: 10n, start: 110, size: 20 },
    { hash: 20n, start: 130, size: 30 },
  ];
  const item = encodeGoodbye(children, 200, 40);
  t.is(item.length, 16 + 24 * 4);
  t.is(item.readBigUInt64LE(0), PXAR.goodbye);
  t.is(item.readBigUInt64LE(8), BigInt(item.length));
  const records = decodeGoodbyeRecords(item.subarray(16), 4);
  t.deepEqual(records, [
    { hash: 20n, offset: 70, size: 30 },
    { hash: 10n, offset: 90, size: 20 },
    { hash: 30n, offset: 100, size: 10 },
    { hash: PXAR.goodbyeTailMarker, offset: 160, size: item.length },
  ]);
});

test("findHash finds a unique hash and misses absent ones", (t) => {
  const records: GoodbyeRecord[] = treeOrder(
    [5n, 1n, 9n, 3n, 7n, 11n].map((hash) => ({ hash, offset: Number(hash), size: 1 })),
  );
  for (const hash of [1n, 3n, 5n, 7n, 9n, 11n]) {
    const found = findHash(records, hash);
    t.is(found.length, 1);
    t.is(records[found[0]!]!.hash, hash);
  }
  t.deepEqual(findHash(records, 4n), []);
  t.deepEqual(findHash(records, 0n), []);
  t.deepEqual(findHash(records, 12n), []);
});

test("findHash returns every record of a colliding hash, wherever the tree put them", (t) => {
  for (let n = 1; n <= 40; n++) {
    for (let dupes = 1; dupes <= Math.min(n, 5); dupes++) {
      const hashes = [...Array(n).keys()].map((i) => (i < dupes ? 1000n : BigInt(i * 37)));
      const records = treeOrder(hashes.map((hash, i) => ({ hash, offset: i, size: 1 })));
      const found = findHash(records, 1000n);
      t.is(found.length, dupes, `n=${n} dupes=${dupes}`);
      t.true(found.every((i) => records[i]!.hash === 1000n));
    }
  }
});
