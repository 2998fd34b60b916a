import type { Dirent } from "node:fs";
import { mkdir, readdir, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest } from "../format/manifest.js";
import { fsyncDirectory, writeFileAtomic } from "./atomic-file.js";
import { ChunkStore, type SyncLevel } from "./chunk-store.js";
import { badName, DatastoreError, isMissing } from "./errors.js";
import { LOCKS_DIR } from "./gc.js";
import { type HeldLock, LockDirectory, type LockMode } from "./locks.js";
import {
  MANIFEST_BLOB_NAME,
  MANIFEST_LOCK_TIMEOUT_MS,
  manifestLockName,
  readManifestFile,
  updateManifestFile,
} from "./manifest-file.js";
import {
  BACKUP_TYPES,
  type BackupGroupName,
  type BackupType,
  compareBackupGroups,
  formatSnapshotTime,
  groupPath,
  MAX_NAMESPACE_DEPTH,
  type Namespace,
  namespaceToDisplay,
  namespaceToPath,
  ROOT_NAMESPACE,
  validateDatastoreName,
  validateNamespace,
} from "./names.js";
import { validateOwner } from "./owner.js";
import { type PruneOptions, pruneSelect } from "./prune.js";
import { SnapshotReader } from "./snapshot-reader.js";
import { type BeginBackupOptions, SnapshotWriter } from "./snapshot-writer.js";
import {
  exists,
  firstLine,
  GROUP_NOTES_FILE,
  hasManifest,
  listGroupIds,
  listSnapshotTimes,
  OWNER_FILE,
  PROTECTED_MARKER,
  readSnapshotInfo,
  readTextFile,
  type SnapshotInfo,
  type SnapshotRef,
  showSnapshot,
  snapshotRefPath,
} from "./snapshots.js";
import { type DatastoreStatus, datastoreStatus } from "./status.js";
import { WriterRegistry } from "./writer-registry.js";

export interface OpenDatastoreOptions {
  syncLevel?: SyncLevel;
  /** The configured name, for messages; a datastore directory does not record it. */
  name?: string;
}

export interface CreateDatastoreOptions {
  name: string;
  syncLevel?: SyncLevel;
  /** Create all 65,536 chunk prefix directories now (default true, as PBS does). */
  preallocate?: boolean;
}

export interface GroupInfo extends BackupGroupName {
  ns: Namespace;
  owner?: string;
  /** Time of the newest finished snapshot. */
  lastBackup?: number;
  /** Snapshot directories, finished or not. */
  backupCount: number;
  /** First line of the group notes. */
  comment?: string;
}

export interface PruneRunOptions {
  /** Report what would be removed without removing anything. */
  dryRun?: boolean;
  /** IANA time zone for the hourly/daily/… buckets (default: the process's). */
  timeZone?: string;
  /** Task log lines: one per snapshot (`host/a/<time> keep-last`), warnings for skipped removals. */
  onLog?: (level: "info" | "warn", message: string) => void;
}

/** One line of a prune result, shaped as PBS's API returns it. */
export interface PruneResultItem {
  "backup-type": BackupType;
  "backup-id": string;
  "backup-time": number;
  keep: boolean;
  protected: boolean;
  ns?: string;
}

export function groupLockName(group: string): string {
  return `backup group ${group}`;
}

export function snapshotLockName(snapshot: string): string {
  return `snapshot ${snapshot}`;
}

/**
 * One datastore directory: namespaces, backup groups and snapshots on top of the chunk store,
 * with the locks of README "Locks". Every method validates the names it is given before it builds
 * a path from them.
 */
export class Datastore {
  readonly locks: LockDirectory;
  readonly writers: WriterRegistry;

  private constructor(
    readonly root: string,
    readonly chunks: ChunkStore,
    readonly name: string | undefined,
  ) {
    this.locks = new LockDirectory(join(root, LOCKS_DIR));
    this.writers = new WriterRegistry(root);
  }

  /** Creates a datastore in `path`, which must be absent or empty (a `lost+found` is allowed). */
  static async create(path: string, options: CreateDatastoreOptions): Promise<Datastore> {
    const name = validateDatastoreName(options.name);
    await mkdir(path, { recursive: true });
    const present = (await readdir(path)).filter((entry) => entry !== "lost+found");
    if (present.length > 0) {
      throw new DatastoreError(
        "not-empty",
        `cannot create datastore ${name} in ${path}: the directory is not empty`,
        { path, entries: present.slice(0, 5) },
      );
    }
    const chunks = await ChunkStore.create(path, {
      syncLevel: options.syncLevel ?? "filesystem",
      preallocate: options.preallocate ?? true,
    });
    await mkdir(join(path, LOCKS_DIR), { recursive: true });
    return new Datastore(path, chunks, name);
  }

  static async open(path: string, options: OpenDatastoreOptions = {}): Promise<Datastore> {
    const name = options.name === undefined ? undefined : validateDatastoreName(options.name);
    const chunks = await ChunkStore.open(path, { syncLevel: options.syncLevel ?? "filesystem" });
    return new Datastore(path, chunks, name);
  }

  get syncLevel(): SyncLevel {
    return this.chunks.syncLevel;
  }

  /** Whether small metadata files (owner, notes, manifest) are fsynced before their rename. */
  get fsyncMetadata(): boolean {
    return this.syncLevel !== "none";
  }

  // ---- paths and locks ----

  namespaceDir(ns: Namespace): string {
    return join(this.root, namespaceToPath(ns));
  }

  groupDir(ns: Namespace, type: BackupType, id: string): string {
    return join(this.root, groupPath(ns, type, id));
  }

  snapshotDir(ref: SnapshotRef): string {
    return join(this.root, snapshotRefPath(ref));
  }

  /** The exclusive group lock, non-blocking: a busy group is an error naming it. */
  lockGroup(ns: Namespace, type: BackupType, id: string, purpose: string): Promise<HeldLock> {
    return this.locks.acquire(groupLockName(groupPath(ns, type, id)), "exclusive", { purpose });
  }

  lockSnapshot(ref: SnapshotRef, mode: LockMode, purpose: string): Promise<HeldLock> {
    return this.locks.acquire(snapshotLockName(snapshotRefPath(ref)), mode, { purpose });
  }

  // ---- namespaces ----

  async namespaceExists(ns: Namespace): Promise<boolean> {
    return isDirectory(this.namespaceDir(ns));
  }

  /** Creates one namespace level; its parent must exist, and it must not. */
  async createNamespace(ns: Namespace): Promise<void> {
    const valid = validateNamespace(ns);
    if (valid.length === 0) throw new DatastoreError("exists", "the root namespace always exists");
    const parent = valid.slice(0, -1);
    await this.#requireNamespace(parent);
    await mkdir(join(this.namespaceDir(parent), "ns"), { recursive: true });
    try {
      await mkdir(this.namespaceDir(valid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new DatastoreError(
          "exists",
          `namespace ${namespaceToDisplay(valid)} already exists`,
          {
            ns: namespaceToDisplay(valid),
          },
        );
      }
      throw err;
    }
  }

  /**
   * `parent` and the namespaces below it, at most `maxDepth` levels down (default: all), depth
   * first with siblings sorted by name.
   */
  async listNamespaces(
    parent: Namespace = ROOT_NAMESPACE,
    maxDepth = MAX_NAMESPACE_DEPTH,
  ): Promise<Namespace[]> {
    const start = validateNamespace(parent);
    if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_NAMESPACE_DEPTH) {
      throw badName(
        "max depth",
        maxDepth,
        `must be a whole number from 0 to ${MAX_NAMESPACE_DEPTH}`,
      );
    }
    await this.#requireNamespace(start);
    const found: Namespace[] = [];
    const visit = async (ns: Namespace, depth: number): Promise<void> => {
      found.push(ns);
      if (depth >= maxDepth || ns.length >= MAX_NAMESPACE_DEPTH) return;
      for (const child of await childNamespaceNames(this.namespaceDir(ns))) {
        const below = validNamespaceOrUndefined([...ns, child]);
        if (below) await visit(below, depth + 1);
      }
    };
    await visit(start, 0);
    return found;
  }

  /**
   * Removes a namespace and those below it. Without `deleteGroups` they must hold no backup group;
   * with it every group is deleted first (each under its group lock), and a group that cannot go
   * (protected snapshots, busy) keeps its namespaces and makes this fail after the rest is gone.
   */
  async deleteNamespace(ns: Namespace, options: { deleteGroups?: boolean } = {}): Promise<void> {
    const target = validateNamespace(ns);
    if (target.length === 0)
      throw new DatastoreError("bad-state", "the root namespace cannot be deleted");
    const all = await this.listNamespaces(target);
    const groups: { ns: Namespace; group: BackupGroupName }[] = [];
    for (const each of all) {
      for (const group of await this.listGroupNames(each)) groups.push({ ns: each, group });
    }
    if (groups.length > 0 && !options.deleteGroups) {
      const first = groups[0]!;
      throw new DatastoreError(
        "not-empty",
        `namespace ${namespaceToDisplay(target)} holds ${groups.length} backup group(s), e.g. ${groupPath(first.ns, first.group.type, first.group.id)}`,
        { ns: namespaceToDisplay(target), groups: groups.length },
      );
    }
    const failures: string[] = [];
    for (const { ns: groupNs, group } of groups) {
      try {
        await this.deleteGroup(groupNs, group.type, group.id);
      } catch (err) {
        failures.push(`${groupPath(groupNs, group.type, group.id)}: ${(err as Error).message}`);
      }
    }
    for (const each of [...all].reverse()) await this.#removeNamespaceDirectories(each);
    if (failures.length > 0) {
      throw new DatastoreError(
        "not-empty",
        `namespace ${namespaceToDisplay(target)} was not removed completely: ${failures.join("; ")}`,
        { ns: namespaceToDisplay(target), failures },
      );
    }
  }

  /** rmdir only: whatever a concurrent backup put there meanwhile stays. */
  async #removeNamespaceDirectories(ns: Namespace): Promise<void> {
    const dir = this.namespaceDir(ns);
    for (const sub of [...BACKUP_TYPES, "ns"]) await removeEmptyDirectory(join(dir, sub));
    await removeEmptyDirectory(dir);
  }

  async #requireNamespace(ns: Namespace): Promise<void> {
    if (!(await this.namespaceExists(ns))) {
      throw new DatastoreError("not-found", `namespace ${namespaceToDisplay(ns)} does not exist`, {
        ns: namespaceToDisplay(ns),
      });
    }
  }

  // ---- groups ----

  /** The groups of one namespace, PBS-sorted (type ct < host < vm, numeric ids by value). */
  async listGroupNames(ns: Namespace): Promise<BackupGroupName[]> {
    await this.#requireNamespace(ns);
    const dir = this.namespaceDir(ns);
    const groups: BackupGroupName[] = [];
    for (const type of BACKUP_TYPES) {
      for (const id of await listGroupIds(dir, type)) groups.push({ type, id });
    }
    return groups.sort(compareBackupGroups);
  }

  async listGroups(ns: Namespace): Promise<GroupInfo[]> {
    const infos: GroupInfo[] = [];
    for (const group of await this.listGroupNames(ns)) {
      const dir = this.groupDir(ns, group.type, group.id);
      const times = await listSnapshotTimes(dir);
      let lastBackup: number | undefined;
      for (const time of [...times].reverse()) {
        if (await hasManifest(join(dir, formatSnapshotTime(time)))) {
          lastBackup = time;
          break;
        }
      }
      const owner = await this.#readOwner(dir);
      const notes = await readTextFile(join(dir, GROUP_NOTES_FILE));
      infos.push({
        ns,
        ...group,
        ...(owner !== undefined && { owner }),
        ...(lastBackup !== undefined && { lastBackup }),
        backupCount: times.length,
        ...(notes && { comment: firstLine(notes) }),
      });
    }
    return infos;
  }

  async groupExists(ns: Namespace, type: BackupType, id: string): Promise<boolean> {
    return isDirectory(this.groupDir(ns, type, id));
  }

  async getOwner(ns: Namespace, type: BackupType, id: string): Promise<string> {
    await this.#requireGroup(ns, type, id);
    const owner = await this.#readOwner(this.groupDir(ns, type, id));
    if (owner === undefined) {
      throw new DatastoreError(
        "not-found",
        `backup group ${groupPath(ns, type, id)} has no owner`,
        {
          group: groupPath(ns, type, id),
        },
      );
    }
    return owner;
  }

  /**
   * Creates the group if it is new and records `owner` if it has none yet; returns the owner on
   * record. The caller holds the group lock, which is what keeps the owner written only once.
   */
  async ensureGroup(
    ns: Namespace,
    type: BackupType,
    id: string,
    owner: string,
  ): Promise<{ created: boolean; owner: string }> {
    validateOwner(owner);
    const dir = this.groupDir(ns, type, id);
    await this.#requireNamespace(ns);
    await mkdirIfAbsent(join(this.namespaceDir(ns), type)); // never recursive: a deleted namespace stays deleted
    const created = await mkdirIfAbsent(dir);
    const recorded = await this.#readOwner(dir);
    if (recorded !== undefined) return { created, owner: recorded };
    await writeFileAtomic(join(dir, OWNER_FILE), `${owner}\n`, { fsync: this.fsyncMetadata });
    return { created, owner };
  }

  /** Change of owner, under the group lock (so never during a backup). */
  async setOwner(ns: Namespace, type: BackupType, id: string, owner: string): Promise<void> {
    validateOwner(owner);
    const lock = await this.lockGroup(ns, type, id, "change the owner");
    try {
      await this.#requireGroup(ns, type, id);
      const path = join(this.groupDir(ns, type, id), OWNER_FILE);
      await writeFileAtomic(path, `${owner}\n`, { fsync: this.fsyncMetadata });
    } finally {
      lock.release();
    }
  }

  async getGroupNotes(ns: Namespace, type: BackupType, id: string): Promise<string> {
    await this.#requireGroup(ns, type, id);
    return (await readTextFile(join(this.groupDir(ns, type, id), GROUP_NOTES_FILE))) ?? "";
  }

  async setGroupNotes(ns: Namespace, type: BackupType, id: string, notes: string): Promise<void> {
    if (typeof notes !== "string") throw badName("group notes", notes, "must be a string");
    await this.#requireGroup(ns, type, id);
    const path = join(this.groupDir(ns, type, id), GROUP_NOTES_FILE);
    await writeFileAtomic(path, notes, { fsync: this.fsyncMetadata });
  }

  /**
   * Removes a group with all its snapshots, under the group lock. A protected snapshot stops it
   * before anything is removed; a snapshot in use (being read, verified) stops it midway.
   */
  async deleteGroup(ns: Namespace, type: BackupType, id: string): Promise<void> {
    const lock = await this.lockGroup(ns, type, id, "delete the group");
    try {
      await this.#requireGroup(ns, type, id);
      const dir = this.groupDir(ns, type, id);
      const times = await listSnapshotTimes(dir);
      const protectedTimes: number[] = [];
      for (const time of times) {
        if (await exists(join(dir, formatSnapshotTime(time), PROTECTED_MARKER)))
          protectedTimes.push(time);
      }
      if (protectedTimes.length > 0) {
        throw new DatastoreError(
          "protected",
          `cannot delete backup group ${groupPath(ns, type, id)}: it has ${protectedTimes.length} protected snapshot(s) (${protectedTimes.map(formatSnapshotTime).join(", ")})`,
          { group: groupPath(ns, type, id), protected: protectedTimes.map(formatSnapshotTime) },
        );
      }
      for (const time of times) await this.deleteSnapshot({ ns, type, id, time });
      await rm(dir, { recursive: true, force: true });
    } finally {
      lock.release();
    }
  }

  async #readOwner(groupDir: string): Promise<string | undefined> {
    const text = await readTextFile(join(groupDir, OWNER_FILE));
    const owner = text?.replace(/\n$/, "");
    return owner === "" ? undefined : owner;
  }

  async #requireGroup(ns: Namespace, type: BackupType, id: string): Promise<void> {
    if (!(await this.groupExists(ns, type, id))) {
      throw new DatastoreError(
        "not-found",
        `backup group ${groupPath(ns, type, id)} does not exist`,
        {
          group: groupPath(ns, type, id),
        },
      );
    }
  }

  // ---- snapshots ----

  /** Snapshots of one group, or of every group of the namespace; by group, then oldest first. */
  async listSnapshots(ns: Namespace, group?: BackupGroupName): Promise<SnapshotInfo[]> {
    let groups: BackupGroupName[];
    if (group) {
      await this.#requireGroup(ns, group.type, group.id);
      groups = [group];
    } else {
      groups = await this.listGroupNames(ns);
    }
    const infos: SnapshotInfo[] = [];
    for (const { type, id } of groups) {
      const dir = this.groupDir(ns, type, id);
      const owner = await this.#readOwner(dir);
      for (const time of await listSnapshotTimes(dir)) {
        const ref = { ns, type, id, time };
        const info = await readSnapshotInfo(join(dir, formatSnapshotTime(time)), ref);
        infos.push(owner === undefined ? info : { ...info, owner });
      }
    }
    return infos;
  }

  async snapshotInfo(ref: SnapshotRef): Promise<SnapshotInfo> {
    await this.#requireSnapshot(ref);
    return readSnapshotInfo(this.snapshotDir(ref), ref);
  }

  async snapshotExists(ref: SnapshotRef): Promise<boolean> {
    return isDirectory(this.snapshotDir(ref));
  }

  async readManifest(ref: SnapshotRef): Promise<Manifest> {
    await this.#requireSnapshot(ref);
    return readManifestFile(this.snapshotDir(ref));
  }

  /** Read-modify-write of a finished snapshot's manifest under the manifest lock. */
  async updateManifest(
    ref: SnapshotRef,
    update: (manifest: Manifest) => Manifest,
  ): Promise<Manifest> {
    await this.#requireSnapshot(ref);
    return updateManifestFile(
      {
        locks: this.locks,
        dir: this.snapshotDir(ref),
        snapshot: snapshotRefPath(ref),
        fsync: this.fsyncMetadata,
      },
      update,
    );
  }

  async isProtected(ref: SnapshotRef): Promise<boolean> {
    await this.#requireSnapshot(ref);
    return exists(join(this.snapshotDir(ref), PROTECTED_MARKER));
  }

  /** Sets or clears the `.protected` marker, under a shared snapshot lock (so never mid-delete). */
  async setProtected(ref: SnapshotRef, value: boolean): Promise<void> {
    await this.#requireSnapshot(ref);
    const lock = await this.lockSnapshot(ref, "shared", "change its protection");
    try {
      const dir = this.snapshotDir(ref);
      const marker = join(dir, PROTECTED_MARKER);
      if (value) await writeFile(marker, "");
      else await unlink(marker).catch((err) => (isMissing(err) ? undefined : Promise.reject(err)));
      if (this.fsyncMetadata) await fsyncDirectory(dir);
    } finally {
      lock.release();
    }
  }

  /** Snapshot notes: `unprotected.notes` of the manifest ("" when none). */
  async getNotes(ref: SnapshotRef): Promise<string> {
    const notes = (await this.readManifest(ref)).unprotected.notes;
    return typeof notes === "string" ? notes : "";
  }

  async setNotes(ref: SnapshotRef, notes: string): Promise<void> {
    if (typeof notes !== "string") throw badName("snapshot notes", notes, "must be a string");
    await this.updateManifest(ref, (manifest) => ({
      ...manifest,
      unprotected: { ...manifest.unprotected, notes },
    }));
  }

  /**
   * Removes one snapshot under its exclusive lock (non-blocking: a snapshot being written, read or
   * verified is an error) and the manifest lock. The manifest goes first, so a crash midway
   * leaves an unfinished snapshot for cleanup, never a finished one with files missing.
   */
  async deleteSnapshot(ref: SnapshotRef): Promise<void> {
    await this.#requireSnapshot(ref);
    const lock = await this.lockSnapshot(ref, "exclusive", "remove the snapshot");
    let manifestLock: HeldLock | undefined;
    try {
      manifestLock = await this.locks.acquire(manifestLockName(snapshotRefPath(ref)), "exclusive", {
        timeoutMs: MANIFEST_LOCK_TIMEOUT_MS,
        purpose: "remove the snapshot",
      });
      const dir = this.snapshotDir(ref);
      if (await exists(join(dir, PROTECTED_MARKER))) {
        throw new DatastoreError(
          "protected",
          `snapshot ${showSnapshot(ref)} is protected: not removed`,
          {
            snapshot: snapshotRefPath(ref),
          },
        );
      }
      await removeSnapshotDirectory(dir, this.fsyncMetadata);
    } finally {
      manifestLock?.release();
      lock.release();
    }
  }

  /**
   * Removes the group's unfinished snapshots that nobody is writing (no manifest, lock free): the
   * remains of crashed or killed backups. Returns their times.
   */
  async cleanupStaleSnapshots(ns: Namespace, type: BackupType, id: string): Promise<number[]> {
    const removed: number[] = [];
    const dir = this.groupDir(ns, type, id);
    for (const time of await listSnapshotTimes(dir)) {
      const snapshotDir = join(dir, formatSnapshotTime(time));
      if (await hasManifest(snapshotDir)) continue;
      const ref = { ns, type, id, time };
      const lock = this.locks.tryAcquire(snapshotLockName(snapshotRefPath(ref)), "exclusive");
      if (!lock) continue; // a backup is writing it
      try {
        if (await hasManifest(snapshotDir)) continue; // finished just before we locked it
        await rm(snapshotDir, { recursive: true, force: true });
        removed.push(time);
      } finally {
        lock.release();
      }
    }
    return removed;
  }

  /**
   * Prune execution (pbs-formats.md §9): pruneSelect's decisions for the group, then removal of
   * those marked remove, oldest first. A snapshot that cannot be removed (locked) is skipped with
   * a warning. Returns one PBS-shaped line per snapshot, newest first.
   */
  async prune(
    ns: Namespace,
    type: BackupType,
    id: string,
    options: PruneOptions,
    run: PruneRunOptions = {},
  ): Promise<PruneResultItem[]> {
    const snapshots = await this.listSnapshots(ns, { type, id });
    const decisions = pruneSelect(
      snapshots.map((snapshot) => ({ ...snapshot, backupTime: snapshot.time })),
      options,
      run.timeZone === undefined ? {} : { timeZone: run.timeZone },
    );
    const log = run.onLog ?? (() => {});
    for (const { snapshot, reason } of decisions) {
      log("info", `${groupPath([], type, id)}/${formatSnapshotTime(snapshot.time)} ${reason}`);
    }
    if (!run.dryRun) {
      const removals = decisions.filter((decision) => !decision.keep).reverse();
      for (const { snapshot } of removals) {
        try {
          await this.deleteSnapshot(snapshot);
        } catch (err) {
          log("warn", `failed to remove ${showSnapshot(snapshot)}: ${(err as Error).message}`);
        }
      }
    }
    return decisions.map(({ snapshot, keep }) => ({
      "backup-type": type,
      "backup-id": id,
      "backup-time": snapshot.time,
      keep,
      protected: snapshot.protected,
      ...(ns.length > 0 && { ns: namespaceToDisplay(ns) }),
    }));
  }

  /** Opens a finished snapshot for reading (restore, download) under a shared snapshot lock. */
  async openReader(ref: SnapshotRef): Promise<SnapshotReader> {
    await this.#requireSnapshot(ref);
    return SnapshotReader.open(this, ref);
  }

  /** Starts a backup; see SnapshotWriter for what is checked and locked. */
  beginBackup(options: BeginBackupOptions): Promise<SnapshotWriter> {
    return SnapshotWriter.begin(this, options);
  }

  status(): Promise<DatastoreStatus> {
    return datastoreStatus(this);
  }

  async #requireSnapshot(ref: SnapshotRef): Promise<void> {
    if (!(await this.snapshotExists(ref))) {
      throw new DatastoreError("not-found", `snapshot ${showSnapshot(ref)} does not exist`, {
        snapshot: snapshotRefPath(ref),
      });
    }
  }
}

/** Manifest first (then the directory entry is durable), then the rest. */
async function removeSnapshotDirectory(dir: string, fsync: boolean): Promise<void> {
  try {
    await unlink(join(dir, MANIFEST_BLOB_NAME));
    if (fsync) await fsyncDirectory(dir);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  await rm(dir, { recursive: true, force: true });
}

/** A directory on disk whose name breaks the namespace rules is not a namespace: left alone. */
function validNamespaceOrUndefined(components: string[]): Namespace | undefined {
  try {
    return validateNamespace(components);
  } catch {
    return undefined;
  }
}

async function childNamespaceNames(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(dir, "ns"), { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && validNamespaceOrUndefined([entry.name])) names.push(entry.name);
  }
  return names.sort();
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** True when it made the directory, false when it was there. */
async function mkdirIfAbsent(path: string): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    if (isMissing(err)) {
      throw new DatastoreError("not-found", `cannot create ${path}: its parent vanished`, { path });
    }
    throw err;
  }
}

async function removeEmptyDirectory(path: string): Promise<void> {
  try {
    await rmdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isMissing(err) || code === "ENOTEMPTY" || code === "EEXIST") return;
    throw err;
  }
}
