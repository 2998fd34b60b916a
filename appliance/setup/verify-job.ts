import { VERIFY_JOB_FILE, verifyJobFileSchema } from "../jobs/job-config.js";
import { JsonConfigFile } from "../server/config/json-config-file.js";

/** The verify jobs file the scheduler reads (appliance/jobs), as PBS's verification.cfg. */
export function verifyConfigFile(configDir: string) {
  return new JsonConfigFile(configDir, VERIFY_JOB_FILE, verifyJobFileSchema, () => ({
    verify: {},
  }));
}

/** Adds (or replaces) the datastore's setup-made verify job: re-verify after 30 days. */
export async function writeVerifyJob(
  configDir: string,
  store: string,
  schedule: string,
): Promise<void> {
  await verifyConfigFile(configDir).update((file) => ({
    verify: {
      ...file.verify,
      [`v-${store}`]: {
        store,
        schedule,
        "ignore-verified": true,
        "outdated-after": 30,
        comment: "created by cairn-setup",
      },
    },
  }));
}
