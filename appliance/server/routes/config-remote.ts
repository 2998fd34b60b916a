import { z } from "zod";
import type { ApiClient } from "../../client/api-client.js";
import { JobError } from "../../jobs/errors.js";
import { FINGERPRINT_PATTERN, isHostName, type RemoteConfig } from "../../jobs/remote-config.js";
import { connectRemote } from "../../jobs/remote-connection.js";
import { sealSecret } from "../../jobs/remote-secret.js";
import { ApiAnswer } from "../api/answer.js";
import { badParameters } from "../api/api-errors.js";
import { defineRoute, type Route } from "../api/route.js";
import {
  apiInteger,
  apiList,
  authId,
  namespace,
  safeId,
  singleLine,
  storeName,
} from "../api/schema-types.js";
import { type RemoteConfigFile, remoteEndpoint } from "../config/remote-config-file.js";
import { holdsPrivileges } from "../request-access.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const remoteName = safeId(3, 32).describe("Remote name.");

const REMOTE_OPTIONS = {
  host: z
    .string({ error: "must be a string" })
    .refine(isHostName, { error: "must be a DNS name or an IP address" })
    .describe("Host name or IP address of the remote server."),
  port: apiInteger(1, 65535).describe("Port (default 8007)."),
  "auth-id": authId.describe("User (user@realm) or API token (user@realm!token) to log in as."),
  password: z
    .string({ error: "must be a string" })
    .min(1, { error: "must not be empty" })
    .max(1024, { error: "must be at most 1024 characters long" })
    .describe("Password of the user, or the token's secret. Stored sealed, never shown."),
  fingerprint: z
    .string({ error: "must be a string" })
    .regex(FINGERPRINT_PATTERN, { error: "must be 32 colon-separated hex bytes (SHA-256)" })
    .describe("SHA-256 fingerprint of the remote's certificate, when its chain is not trusted."),
  comment: singleLine(1024).describe("Comment."),
};
const CLEARABLE = ["port", "fingerprint", "comment"] as const;

const digestParam = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" })
  .optional()
  .describe("Digest of the configuration read before, to refuse concurrent changes.");

function remoteNotFound(name: string): JobError {
  return new JobError("not-found", `remote ${JSON.stringify(name)} does not exist`, {
    remote: name,
  });
}

/** What the API shows of a remote: everything but the password. */
function shown(name: string, entry: RemoteConfig) {
  const { password: _secret, ...rest } = entry;
  return { name, ...rest };
}

/** `/config/remote[/{name}]` CRUD and `/config/remote/{name}/scan…`, PBS-shaped. */
export function configRemoteRoutes(services: ServerServices, file: RemoteConfigFile): Route[] {
  const audit = {
    kind: "privileges",
    path: "/remote/{name}",
    privileges: [PRIV.remoteAudit],
  } as const;
  const modify = {
    kind: "privileges",
    path: "/remote/{name}",
    privileges: [PRIV.remoteModify],
  } as const;
  const find = async (name: string) => {
    const { value, digest } = await file.read();
    const entry = Object.hasOwn(value.remote, name) ? value.remote[name] : undefined;
    if (entry === undefined) throw remoteNotFound(name);
    return { entry, digest };
  };
  /** Calls the remote as configured; its failures are 502s naming the remote. */
  const onRemote = async <T>(name: string, call: (api: ApiClient) => Promise<T>): Promise<T> => {
    const endpoint = await remoteEndpoint(file, name);
    try {
      return await call((await connectRemote(endpoint)).api);
    } catch (cause) {
      throw new JobError(
        "remote-failed",
        `remote ${name} (${endpoint.host}:${endpoint.port}): ${(cause as Error).message}`,
        { remote: name },
        { cause },
      );
    }
  };
  const scanBase = (store: string) => `/admin/datastore/${encodeURIComponent(store)}`;
  return [
    defineRoute({
      method: "GET",
      path: "/config/remote",
      description: "List remotes (those the caller may audit), without their passwords.",
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: async ({ auth }) => {
        const { value, digest } = await file.read();
        const items = [];
        for (const [name, entry] of Object.entries(value.remote).sort(([a], [b]) =>
          a < b ? -1 : 1,
        )) {
          if (await holdsPrivileges(services.access, auth, `/remote/${name}`, [PRIV.remoteAudit]))
            items.push(shown(name, entry));
        }
        return new ApiAnswer(items, { digest });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/config/remote",
      description: "Add a remote.",
      parameters: z.strictObject({
        name: remoteName,
        host: REMOTE_OPTIONS.host,
        port: REMOTE_OPTIONS.port.optional(),
        "auth-id": REMOTE_OPTIONS["auth-id"],
        password: REMOTE_OPTIONS.password,
        fingerprint: REMOTE_OPTIONS.fingerprint.optional(),
        comment: REMOTE_OPTIONS.comment.optional(),
      }),
      permission: { kind: "privileges", path: "/remote", privileges: [PRIV.remoteModify] },
      handler: async ({ params }) => {
        const { name, password, ...rest } = params;
        const sealed = await sealSecret(file.dir, password);
        await file.update((current) => {
          if (Object.hasOwn(current.remote, name)) {
            throw new JobError("exists", `remote ${name} already exists`, { remote: name });
          }
          const entry = { ...definedOnly(rest), password: sealed } as RemoteConfig;
          return { remote: { ...current.remote, [name]: entry } };
        });
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/config/remote/{name}",
      description: "Read one remote, without its password.",
      parameters: z.strictObject({ name: remoteName }),
      permission: audit,
      handler: async ({ params }) => {
        const { entry, digest } = await find(params.name);
        return new ApiAnswer(shown(params.name, entry), { digest });
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/config/remote/{name}",
      description: "Change a remote; `delete` clears port, fingerprint or comment.",
      parameters: z.strictObject({
        name: remoteName,
        host: REMOTE_OPTIONS.host.optional(),
        port: REMOTE_OPTIONS.port.optional(),
        "auth-id": REMOTE_OPTIONS["auth-id"].optional(),
        password: REMOTE_OPTIONS.password.optional(),
        fingerprint: REMOTE_OPTIONS.fingerprint.optional(),
        comment: REMOTE_OPTIONS.comment.optional(),
        delete: apiList(z.enum(CLEARABLE, { error: `must be one of ${CLEARABLE.join(", ")}` }))
          .optional()
          .describe("Options to clear."),
        digest: digestParam,
      }),
      permission: modify,
      handler: async ({ params }) => {
        const { name, password, delete: cleared = [], digest, ...rest } = params;
        const fields = definedOnly(rest);
        const both = cleared.filter((option) => option in fields);
        if (both.length > 0)
          throw badParameters({ delete: `${both.join(", ")} both set and deleted` });
        await find(name);
        const sealed = password === undefined ? undefined : await sealSecret(file.dir, password);
        await file.update((current) => {
          const entry = Object.hasOwn(current.remote, name) ? current.remote[name] : undefined;
          if (entry === undefined) throw remoteNotFound(name);
          const next: Record<string, unknown> = { ...entry, ...fields };
          if (sealed !== undefined) next.password = sealed;
          for (const option of cleared) delete next[option];
          return { remote: { ...current.remote, [name]: next as RemoteConfig } };
        }, digest);
        return null;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/config/remote/{name}",
      description: "Remove a remote.",
      parameters: z.strictObject({ name: remoteName, digest: digestParam }),
      permission: modify,
      handler: async ({ params }) => {
        await file.update((current) => {
          if (!Object.hasOwn(current.remote, params.name)) throw remoteNotFound(params.name);
          const { [params.name]: _removed, ...rest } = current.remote;
          return { remote: rest };
        }, params.digest);
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/config/remote/{name}/scan",
      description: "The datastores the remote shows its auth id: [{store, comment}].",
      parameters: z.strictObject({ name: remoteName }),
      permission: audit,
      handler: ({ params }) => onRemote(params.name, (api) => api.get("/admin/datastore")),
    }),
    defineRoute({
      method: "GET",
      path: "/config/remote/{name}/scan/{store}/namespaces",
      description: "The namespaces of a datastore of the remote: [{ns}].",
      parameters: z.strictObject({ name: remoteName, store: storeName }),
      permission: audit,
      handler: ({ params }) =>
        onRemote(params.name, (api) => api.get(`${scanBase(params.store)}/namespace`)),
    }),
    defineRoute({
      method: "GET",
      path: "/config/remote/{name}/scan/{store}/groups",
      description: "The backup groups of a datastore (and namespace) of the remote.",
      parameters: z.strictObject({
        name: remoteName,
        store: storeName,
        namespace: namespace.optional(),
      }),
      permission: audit,
      handler: ({ params }) =>
        onRemote(params.name, (api) =>
          api.get(`${scanBase(params.store)}/groups`, {
            ...(params.namespace && { ns: params.namespace }),
          }),
        ),
    }),
  ];
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
