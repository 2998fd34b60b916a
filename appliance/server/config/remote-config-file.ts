import { JobError } from "../../jobs/errors.js";
import {
  DEFAULT_REMOTE_PORT,
  REMOTE_FILE,
  type RemoteEndpoint,
  remoteFileSchema,
} from "../../jobs/remote-config.js";
import { openSecret } from "../../jobs/remote-secret.js";
import { JsonConfigFile } from "./json-config-file.js";

/** `remote.json`: mode 0600, as it holds (sealed) secrets. */
export function remoteConfigFile(configDir: string) {
  return new JsonConfigFile(
    configDir,
    REMOTE_FILE,
    remoteFileSchema,
    () => ({ remote: {} }),
    0o600,
  );
}

export type RemoteConfigFile = ReturnType<typeof remoteConfigFile>;

/** A configured remote with its secret unsealed, for connecting to it. */
export async function remoteEndpoint(
  file: RemoteConfigFile,
  name: string,
): Promise<RemoteEndpoint> {
  const { value } = await file.read();
  const entry = Object.hasOwn(value.remote, name) ? value.remote[name] : undefined;
  if (entry === undefined) {
    throw new JobError("not-found", `remote ${JSON.stringify(name)} does not exist`, {
      remote: name,
    });
  }
  return {
    name,
    host: entry.host,
    port: entry.port ?? DEFAULT_REMOTE_PORT,
    authId: entry["auth-id"],
    secret: await openSecret(file.dir, entry.password),
    ...(entry.fingerprint !== undefined && { fingerprint: entry.fingerprint.toLowerCase() }),
  };
}
