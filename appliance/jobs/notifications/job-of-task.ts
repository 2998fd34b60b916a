/**
 * Which finished tasks notify, and as what: scheduled jobs and GC/verify started by hand, read
 * from the task's PBS worker type and id (store and job names never contain `:`).
 */

/** What a notification says a task was. */
export interface TaskJob {
  /** `prune`, `verify`, `gc`, `sync`. */
  kind: string;
  /** The job's id; for a task started by hand, what it worked on. */
  id: string;
  store: string;
  /** Started through the API rather than from a job's configuration. */
  manual?: true;
}

/** `first:rest`, split at the first colon only (snapshot times hold colons). */
function splitFirst(text: string): [string, string] | undefined {
  const at = text.indexOf(":");
  return at < 0 ? undefined : [text.slice(0, at), text.slice(at + 1)];
}

const STORE_AND_JOB = (kind: string) => (workerId: string) => {
  const parts = splitFirst(workerId);
  return parts && { kind, store: parts[0], id: parts[1] };
};

const MANUAL_VERIFY = (workerId: string): TaskJob | undefined => {
  const parts = splitFirst(workerId);
  return parts && { kind: "verify", store: parts[0], id: parts[1], manual: true };
};

const BY_WORKER_TYPE: Record<string, (workerId: string) => TaskJob | undefined> = {
  prunejob: STORE_AND_JOB("prune"),
  verificationjob: STORE_AND_JOB("verify"),
  garbage_collection: (store) => ({ kind: "gc", id: store, store }),
  // remote:remote-store:store:id
  syncjob: (workerId) => {
    const [, , store, id] = workerId.split(":");
    return store === undefined || id === undefined ? undefined : { kind: "sync", store, id };
  },
  verify: (store) => ({ kind: "verify", id: store, store, manual: true }),
  verify_group: MANUAL_VERIFY,
  verify_snapshot: MANUAL_VERIFY,
};

/** The job a finished task was, or undefined for tasks that do not notify. */
export function jobOfTask(workerType: string, workerId: string | undefined): TaskJob | undefined {
  const parse = Object.hasOwn(BY_WORKER_TYPE, workerType) ? BY_WORKER_TYPE[workerType] : undefined;
  return parse === undefined || workerId === undefined ? undefined : parse(workerId);
}
