import { chown, lchown, readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Who owns the files a task writes. Set in the privileged service (root), which shares the public
 * daemon's state directory: its task logs and index must stay readable and writable by the daemon.
 */
export interface FileOwner {
  uid: number;
  gid: number;
}

/** Gives `paths` to `owner` (nothing without one); a path that is gone is skipped. */
export async function giveTo(
  owner: FileOwner | undefined,
  paths: readonly string[],
): Promise<void> {
  if (owner === undefined) return;
  for (const path of paths) {
    await chown(path, owner.uid, owner.gid).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

/** Gives `root` and everything below it to `owner` (nothing without one); links are not followed. */
export async function giveTreeTo(owner: FileOwner | undefined, root: string): Promise<void> {
  if (owner === undefined) return;
  await lchown(root, owner.uid, owner.gid);
  for (const entry of await readdir(root, { recursive: true })) {
    await lchown(join(root, entry), owner.uid, owner.gid);
  }
}
