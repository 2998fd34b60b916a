import { createHash } from "node:crypto";
import test from "ava";
import {
  hashFilename,
  itemTypeName,
  PXAR,
  PXAR_HASH_KEY,
  PXAR_MARKER,
  type PxarItemType,
} from "../../../appliance/format/pxar/constants.js";
import { sipHash24 } from "../../../appliance/format/pxar/siphash.js";
import { loadVectors } from "../../helpers/vectors.js";

const vectors = loadVectors("pxar-test-vectors.json");

test("the hash key is the first 32 hex digits of SHA-1('PROXMOX ARCHIVE FORMAT')", (t) => {
  const digest = createHash("sha1").update("PROXMOX ARCHIVE FORMAT").digest("hex");
  t.is(PXAR_HASH_KEY.k0, BigInt(`0x${digest.slice(0, 16)}`));
  t.is(PXAR_HASH_KEY.k1, BigInt(`0x${digest.slice(16, 32)}`));
});

test("there are 23 item types, all distinct", (t) => {
  t.is(Object.keys(PXAR).length, 23);
  t.is(new Set(Object.values(PXAR)).size, 23);
});

for (const type of Object.keys(PXAR) as PxarItemType[]) {
  test(`${type} is SipHash-2-4 of ${PXAR_MARKER[type]}`, (t) => {
    t.is(sipHash24(PXAR_HASH_KEY, Buffer.from(PXAR_MARKER[type], "ascii")), PXAR[type]);
  });
}

test("spot values from pxar-format.md §1", (t) => {
  t.is(PXAR.entry, 0xd5956474e588acefn);
  t.is(PXAR.goodbyeTailMarker, 0xef5eed5b753e1555n);
  t.is(PXAR.payloadRef, 0x419d3d6bc4ba977en);
  t.is(itemTypeName(PXAR.filename), "filename");
  t.is(itemTypeName(1n), "unknown type 0x0000000000000001");
});

for (const [name, expected] of Object.entries(vectors.name_hashes as Record<string, string>)) {
  test(`goodbye hash of ${JSON.stringify(name)} is ${expected}`, (t) => {
    t.is(hashFilename(Buffer.from(name, "utf8")), BigInt(expected));
  });
}

test("the empty name hashes to the value in pxar-format.md §1", (t) => {
  t.is(hashFilename(new Uint8Array(0)), 0x76614015f8d1bb6cn);
});
