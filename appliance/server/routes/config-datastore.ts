import { z } from "zod";
import { ApiAnswer } from "../api/answer.js";
import { ApiError, badParameters } from "../api/api-errors.js";
import { type AuthInfo, defineRoute, type Route } from "../api/route.js";
import { apiBoolean, apiInteger, apiList, singleLine, storeName } from "../api/schema-types.js";
import { ConfigError } from "../config/config-errors.js";
import {
  type DatastoreEntry,
  datastorePathProblem,
  listDatastores,
} from "../config/datastore-config.js";
import { formatTuning, parseTuning } from "../config/datastore-tuning.js";
import { createConfiguredDatastore } from "../datastore-setup.js";
import { holdsPrivileges } from "../request-access.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const tuningParam = z
  .string({ error: "must be a string" })
  .max(512)
  .superRefine((text, ctx) => {
    try {
      parseTuning(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  })
  .describe(
    "Tuning options: sync-level=none|file|filesystem, chunk-order=none|inode, gc-atime-cutoff, …",
  );

/** The fields PUT may set and `delete` may clear. */
const optionParams = {
  comment: singleLine(1024).optional().describe("Comment."),
  "gc-schedule": singleLine(256)
    .optional()
    .describe("Garbage collection schedule (calendar event)."),
  "prune-schedule": singleLine(256).optional().describe("Prune schedule (calendar event)."),
  "keep-last": apiInteger(1).optional().describe("Number of backups to keep."),
  "keep-hourly": apiInteger(1).optional().describe("Number of hourly backups to keep."),
  "keep-daily": apiInteger(1).optional().describe("Number of daily backups to keep."),
  "keep-weekly": apiInteger(1).optional().describe("Number of weekly backups to keep."),
  "keep-monthly": apiInteger(1).optional().describe("Number of monthly backups to keep."),
  "keep-yearly": apiInteger(1).optional().describe("Number of yearly backups to keep."),
  "verify-new": apiBoolean()
    .optional()
    .describe("Verify every new backup right after it finishes."),
  tuning: tuningParam.optional(),
};
type OptionName = keyof typeof optionParams;
const OPTION_NAMES = Object.keys(optionParams) as [OptionName, ...OptionName[]];

const pathParam = z
  .string({ error: "must be a string" })
  .max(4096)
  .superRefine((path, ctx) => {
    const problem = datastorePathProblem(path);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe("Absolute directory of the datastore.");

const digestParam = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" })
  .optional()
  .describe("Digest of the configuration read before, to refuse concurrent changes.");

/** Only defined values, with tuning in its canonical form. */
function entryFields(params: Record<string, unknown>): Partial<DatastoreEntry> {
  const fields: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    const value = params[name];
    if (value === undefined) continue;
    fields[name] = name === "tuning" ? formatTuning(parseTuning(value as string)) : value;
  }
  return fields as Partial<DatastoreEntry>;
}

export function configDatastoreRoutes(services: ServerServices): Route[] {
  const { datastores, tasks } = services;
  const visible = (auth: AuthInfo | undefined, name: string) =>
    holdsPrivileges(services.access, auth, `/datastore/${name}`, [PRIV.datastoreAudit]);

  return [
    defineRoute({
      method: "GET",
      path: "/config/datastore",
      description: "List configured datastores (those the caller may audit).",
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: async ({ auth }) => {
        const { value, digest } = await datastores.config.read();
        const shown = [];
        for (const store of listDatastores(value)) {
          if (await visible(auth, store.name)) shown.push(store);
        }
        return new ApiAnswer(shown, { digest });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/config/datastore",
      description:
        "Create a datastore: makes the chunk store in `path` (which must be empty or absent, or already hold a datastore) and adds it to the configuration. Returns the UPID of the create-datastore task.",
      parameters: z.strictObject({ name: storeName, path: pathParam, ...optionParams }),
      permission: { kind: "privileges", path: "/datastore", privileges: [PRIV.datastoreAllocate] },
      handler: async ({ params, auth }) => {
        const existing = listDatastores((await datastores.config.read()).value);
        if (existing.some((store) => store.name === params.name)) {
          throw new ConfigError("exists", `datastore ${params.name} already exists`);
        }
        if (existing.some((store) => store.path === params.path)) {
          throw new ConfigError(
            "exists",
            `path ${params.path} is already used by another datastore`,
          );
        }
        const fields = entryFields(params);
        return tasks.spawn({
          type: "create-datastore",
          id: params.name,
          authId: auth!.authId,
          run: (task) =>
            createConfiguredDatastore(
              datastores,
              params.name,
              { path: params.path, ...fields },
              (message) => task.log(message),
            ),
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/config/datastore/{name}",
      description: "Read one datastore's configuration.",
      parameters: z.strictObject({ name: storeName }),
      permission: {
        kind: "privileges",
        path: "/datastore/{name}",
        privileges: [PRIV.datastoreAudit],
      },
      handler: async ({ params }) => {
        const { digest } = await datastores.config.read();
        return new ApiAnswer(await datastores.entry(params.name), { digest });
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/config/datastore/{name}",
      description: "Change a datastore's options; `delete` clears the named ones.",
      parameters: z.strictObject({
        name: storeName,
        ...optionParams,
        delete: apiList(
          z.enum(OPTION_NAMES, { error: `must be one of ${OPTION_NAMES.join(", ")}` }),
        )
          .optional()
          .describe("Options to clear."),
        digest: digestParam,
      }),
      permission: {
        kind: "privileges",
        path: "/datastore/{name}",
        privileges: [PRIV.datastoreModify],
      },
      handler: async ({ params }) => {
        const fields = entryFields(params);
        const cleared = params.delete ?? [];
        const both = cleared.filter((name) => name in fields);
        if (both.length > 0) {
          throw badParameters({ delete: `${both.join(", ")} both set and deleted` });
        }
        await datastores.config.update((file) => {
          const current = Object.hasOwn(file.datastore, params.name)
            ? file.datastore[params.name]
            : undefined;
          if (current === undefined) {
            throw new ConfigError("not-found", `datastore ${params.name} is not configured`);
          }
          const next: Record<string, unknown> = { ...current, ...fields };
          for (const name of cleared) delete next[name];
          return { datastore: { ...file.datastore, [params.name]: next as DatastoreEntry } };
        }, params.digest);
        datastores.forget(params.name);
        return null;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/config/datastore/{name}",
      description:
        "Remove a datastore from the configuration; its directory and data stay. Returns the UPID of the delete-datastore task.",
      parameters: z.strictObject({
        name: storeName,
        digest: digestParam,
        "keep-job-configs": apiBoolean()
          .optional()
          .describe("Keep job configurations (no jobs are removed yet)."),
        "destroy-data": apiBoolean().optional().describe("Also remove the data (not supported)."),
      }),
      permission: {
        kind: "privileges",
        path: "/datastore/{name}",
        privileges: [PRIV.datastoreAllocate],
      },
      handler: async ({ params, auth }) => {
        if (params["destroy-data"]) {
          throw new ApiError(
            "not-implemented",
            "destroy-data is not supported: remove the directory yourself",
          );
        }
        await datastores.entry(params.name);
        const { digest } = await datastores.config.read();
        if (params.digest !== undefined && params.digest !== digest) {
          throw new ConfigError(
            "changed",
            "datastore.json was changed meanwhile (digest mismatch); read it again",
          );
        }
        return tasks.spawn({
          type: "delete-datastore",
          id: params.name,
          authId: auth!.authId,
          run: async (task) => {
            await datastores.config.update((file) => {
              if (!Object.hasOwn(file.datastore, params.name)) {
                throw new ConfigError("not-found", `datastore ${params.name} is not configured`);
              }
              const { [params.name]: _removed, ...rest } = file.datastore;
              return { datastore: rest };
            }, params.digest);
            datastores.forget(params.name);
            task.log(
              `datastore ${params.name} removed from the configuration; its data stays in place`,
            );
          },
        });
      },
    }),
  ];
}
