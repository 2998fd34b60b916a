import { Datastore } from "../../../appliance/datastore/datastore.js";
import type { BackupType } from "../../../appliance/datastore/names.js";
import { encodeBlob } from "../../../appliance/format/blob.js";
import { encodeChunk } from "../../../appliance/format/chunk.js";
import { addManifestFile, newManifest } from "../../../appliance/format/manifest.js";
import { datastoreConfigFile } from "../../../appliance/server/config/datastore-config.js";

export const NOTES_TEXT = "name: web\n";
/** Two chunks of the archive each snapshot holds. */
export const ARCHIVE_DATA = [
  Buffer.alloc(5000, 1),
  Buffer.from("tail of the archive ".repeat(300)),
];

/** A directory datastore (no preallocated chunk directories) registered under `name`. */
export async function addStore(configDir: string, name: string, path: string): Promise<Datastore> {
  const store = await Datastore.create(path, { name, preallocate: false, syncLevel: "none" });
  await datastoreConfigFile(configDir).update((file) => ({
    datastore: { ...file.datastore, [name]: { path, tuning: "sync-level=none" } },
  }));
  return store;
}

/** A finished snapshot with a blob (`notes.conf.blob`) and a dynamic index (`root.pxar.didx`). */
export async function addSnapshot(
  store: Datastore,
  snapshot: { ns?: string[]; type: BackupType; id: string; time: number; owner: string },
): Promise<void> {
  const writer = await store.beginBackup({ ...snapshot, ns: snapshot.ns ?? [] });
  const blob = await writer.writeBlob(
    "notes.conf.blob",
    encodeBlob(Buffer.from(NOTES_TEXT), { compress: true }),
  );
  const index = await writer.createDynamicIndex("root.pxar.didx");
  let end = 0;
  for (const data of ARCHIVE_DATA) {
    const chunk = encodeChunk(data);
    await writer.insertChunk(chunk.digest, chunk.encoded, data.length);
    end += data.length;
    await index.writer.append(end, chunk.digest);
  }
  const closed = await index.close();
  let manifest = newManifest({
    backupType: snapshot.type,
    backupId: snapshot.id,
    backupTime: snapshot.time,
  });
  manifest = addManifestFile(manifest, {
    filename: "notes.conf.blob",
    size: blob.size,
    csum: blob.csum,
  });
  manifest = addManifestFile(manifest, {
    filename: "root.pxar.didx",
    size: closed.size,
    csum: closed.csum,
  });
  await writer.finish(manifest);
}
