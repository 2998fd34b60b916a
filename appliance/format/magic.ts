/**
 * The 8-byte magic numbers that open every PBS file kind: each is the first 8 bytes of SHA-256 over
 * an ASCII name (values from pbs-formats.md §1, checked by test/format/magic.test.ts).
 */
export const MAGIC = {
  uncompressedBlob: Buffer.from("42ab3807be8370a1", "hex"),
  compressedBlob: Buffer.from("31b958426fb6a37f", "hex"),
  encryptedBlob: Buffer.from("7b6785be222d4cf0", "hex"),
  encryptedCompressedBlob: Buffer.from("e6591bbf0bbfd80b", "hex"),
  fixedIndex: Buffer.from("2f7f41ed91fd0fcd", "hex"),
  dynamicIndex: Buffer.from("1c914ea519bab3cd", "hex"),
  catalog: Buffer.from("91fd60f9c46758d5", "hex"),
} as const;

export type MagicKind = keyof typeof MAGIC;

/** The ASCII names whose SHA-256 prefixes are the magic numbers. */
export const MAGIC_SOURCE: Record<MagicKind, string> = {
  uncompressedBlob: "Proxmox Backup uncompressed blob v1.0",
  compressedBlob: "Proxmox Backup zstd compressed blob v1.0",
  encryptedBlob: "Proxmox Backup encrypted blob v1.0",
  encryptedCompressedBlob: "Proxmox Backup zstd compressed encrypted blob v1.0",
  fixedIndex: "Proxmox Backup fixed sized chunk index v1.0",
  dynamicIndex: "Proxmox Backup dynamic sized chunk index v1.0",
  catalog: "Proxmox Backup Catalog file v1.0",
};

export const MAGIC_LENGTH = 8;

/** Which file kind the first 8 bytes announce, or undefined when none. */
export function identifyMagic(bytes: Uint8Array): MagicKind | undefined {
  if (bytes.length < MAGIC_LENGTH) return undefined;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, MAGIC_LENGTH);
  for (const [kind, magic] of Object.entries(MAGIC) as [MagicKind, Buffer][]) {
    if (magic.equals(head)) return kind;
  }
  return undefined;
}
