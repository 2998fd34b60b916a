import { formatSnapshotTime, groupPath } from "../../../datastore/names.js";
import type { SnapshotRef } from "../../../datastore/snapshots.js";
import type { ServerServices } from "../services.js";
import { runVerify } from "./verify-work.js";

/**
 * The datastore option `verify-new`: each snapshot a backup finishes is verified at once, in a
 * `verify_snapshot` task of the backup's auth id (as PBS does). A store without it is left alone.
 */
export function verifyNewSnapshots(
  services: Pick<ServerServices, "datastores" | "tasks" | "logger">,
) {
  return (storeName: string, ref: SnapshotRef, authId: string): void => {
    void (async () => {
      const entry = await services.datastores.entry(storeName);
      if (entry["verify-new"] !== true) return;
      const { store } = await services.datastores.open(storeName);
      await services.tasks.spawn({
        type: "verify_snapshot",
        id: `${storeName}:${groupPath(ref.ns, ref.type, ref.id)}/${formatSnapshotTime(ref.time)}`,
        authId,
        run: (task) => runVerify(task, store, { kind: "snapshot", ref }, { ignoreVerified: false }),
      });
    })().catch((err: unknown) =>
      services.logger.error({ err, store: storeName }, "verify-new could not start"),
    );
  };
}
