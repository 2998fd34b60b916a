import { badInput } from "../errors.js";

const POOL_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
/** Words zpool reads as vdev types, and Solaris device-like names it refuses. */
const RESERVED_POOL = /^(mirror|raidz\d?|draid\d?|spare|log|cache|special|dedup)$|^c\d/;

/** A pool name both CLIs accept and that is safe as a datastore and directory name. */
export function validatePoolName(name: unknown): string {
  if (typeof name !== "string" || !POOL_NAME.test(name)) {
    throw badInput(
      "pool name",
      name,
      "must start with a letter, be at most 64 characters and contain only letters, digits, '_', '.', '-'",
    );
  }
  if (RESERVED_POOL.test(name)) {
    throw badInput("pool name", name, "is reserved by zpool (a vdev type or device-like name)");
  }
  return name;
}

/** `pool/child/…`: a valid pool name, then components without '@', '#' or '/' of their own. */
export function validateDatasetName(name: unknown): string {
  if (typeof name !== "string" || name.length > 255) {
    throw badInput("dataset name", name, "must be a string of at most 255 characters");
  }
  const [pool, ...rest] = name.split("/");
  validatePoolName(pool);
  for (const component of rest) {
    if (!COMPONENT.test(component) || component === "." || component === "..") {
      throw badInput(
        "dataset name",
        name,
        "components must be non-empty and contain only letters, digits, '_', '.', ':', '-'",
      );
    }
  }
  return name;
}
