import type { ApiClient, ApiParams } from "./api-client.js";
import type { GroupRef, SnapshotRef } from "./snapshot-ref.js";

/** PBS's GroupListItem. */
export interface GroupItem {
  "backup-type": string;
  "backup-id": string;
  "last-backup": number;
  "backup-count": number;
  files: string[];
  owner?: string;
  comment?: string;
}

/** PBS's SnapshotListItem. */
export interface SnapshotItem {
  "backup-type": string;
  "backup-id": string;
  "backup-time": number;
  comment?: string;
  files: FileItem[];
  size?: number;
  owner?: string;
  protected?: boolean;
  fingerprint?: string;
}

export interface FileItem {
  filename: string;
  "crypt-mode"?: string;
  size?: number;
}

export interface PruneItem {
  "backup-type": string;
  "backup-id": string;
  "backup-time": number;
  keep: boolean;
  protected?: boolean;
}

export interface KeepOptions {
  "keep-last"?: number;
  "keep-hourly"?: number;
  "keep-daily"?: number;
  "keep-weekly"?: number;
  "keep-monthly"?: number;
  "keep-yearly"?: number;
}

/** The datastore's REST calls the client uses, one method each (pbs-formats.md §13). */
export class DatastoreApi {
  constructor(
    readonly api: ApiClient,
    readonly store: string,
    readonly ns?: string,
  ) {}

  async groups(): Promise<GroupItem[]> {
    return (await this.api.get(this.#path("groups"), this.#ns())) as GroupItem[];
  }

  async snapshots(group?: GroupRef): Promise<SnapshotItem[]> {
    const params = group ? { ...this.#ns(), ...groupParams(group) } : this.#ns();
    return (await this.api.get(this.#path("snapshots"), params)) as SnapshotItem[];
  }

  async files(snapshot: SnapshotRef): Promise<FileItem[]> {
    return (await this.api.get(this.#path("files"), this.#snapshot(snapshot))) as FileItem[];
  }

  async forget(snapshot: SnapshotRef): Promise<void> {
    await this.api.delete(this.#path("snapshots"), this.#snapshot(snapshot));
  }

  async notes(snapshot: SnapshotRef): Promise<string> {
    return (await this.api.get(this.#path("notes"), this.#snapshot(snapshot))) as string;
  }

  async setNotes(snapshot: SnapshotRef, notes: string): Promise<void> {
    await this.api.put(this.#path("notes"), { ...this.#snapshot(snapshot), notes });
  }

  async isProtected(snapshot: SnapshotRef): Promise<boolean> {
    return (await this.api.get(this.#path("protected"), this.#snapshot(snapshot))) as boolean;
  }

  async setProtected(snapshot: SnapshotRef, value: boolean): Promise<void> {
    await this.api.put(this.#path("protected"), { ...this.#snapshot(snapshot), protected: value });
  }

  async prune(group: GroupRef, keep: KeepOptions, dryRun: boolean): Promise<PruneItem[]> {
    const params: ApiParams = { ...this.#ns(), ...groupParams(group), ...keep, "dry-run": dryRun };
    return (await this.api.post(this.#path("prune"), params)) as PruneItem[];
  }

  async status(): Promise<{ total: number; used: number; avail: number }> {
    return (await this.api.get(this.#path("status"))) as {
      total: number;
      used: number;
      avail: number;
    };
  }

  #path(what: string): string {
    return `/admin/datastore/${encodeURIComponent(this.store)}/${what}`;
  }

  #ns(): ApiParams {
    return this.ns ? { ns: this.ns } : {};
  }

  #snapshot(snapshot: SnapshotRef): ApiParams {
    return { ...this.#ns(), ...groupParams(snapshot), "backup-time": snapshot.time };
  }
}

function groupParams(group: GroupRef): ApiParams {
  return { "backup-type": group.type, "backup-id": group.id };
}
