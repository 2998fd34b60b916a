import { z } from "zod";
import { JobError } from "../../jobs/errors.js";
import { ApiAnswer } from "../api/answer.js";
import { ApiError, badParameters } from "../api/api-errors.js";
import { type AuthInfo, defineRoute, type Route } from "../api/route.js";
import { apiList, safeId } from "../api/schema-types.js";
import { holdsPrivileges } from "../request-access.js";
import type { ServerServices } from "./services.js";

export type JobEntry = Record<string, unknown> & { store: string };

/** One job kind's configuration file, seen as a map of id → entry. */
export interface JobConfigSource {
  read(): Promise<{ jobs: Record<string, JobEntry>; digest: string }>;
  update(
    change: (jobs: Record<string, JobEntry>) => Record<string, JobEntry>,
    digest?: string,
  ): Promise<void>;
}

export interface JobConfigKind {
  /** `prune` or `verify`: the path is `/config/<kind>`. */
  kind: string;
  title: string;
  source: JobConfigSource;
  /** API parameters of an entry besides id and store, each optional. */
  options: Record<string, z.ZodType>;
  /** Options that must be given on create. */
  required: readonly string[];
  /** Privileges (any one) on `/datastore/{store}` to see a job, and to change it. */
  audit: readonly string[];
  modify: readonly string[];
  /** Called after a job is removed (forget its state). */
  removed(id: string): Promise<void>;
}

export const jobIdParam = safeId(3, 32).describe("Job ID.");

const digestParam = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" })
  .optional()
  .describe("Digest of the configuration read before, to refuse concurrent changes.");

export async function mayUseStore(
  services: ServerServices,
  auth: AuthInfo | undefined,
  store: string,
  privileges: readonly string[],
): Promise<boolean> {
  return holdsPrivileges(services.access, auth, `/datastore/${store}`, privileges, true);
}

async function requireStore(
  services: ServerServices,
  auth: AuthInfo | undefined,
  store: string,
  privileges: readonly string[],
): Promise<void> {
  if (!(await mayUseStore(services, auth, store, privileges))) {
    throw new ApiError("forbidden", `permission check failed on /datastore/${store}`);
  }
}

export function jobNotFound(kind: string, id: string): JobError {
  return new JobError("not-found", `${kind} job ${JSON.stringify(id)} does not exist`, { id });
}

/** Only the given values. */
function definedFields(params: Record<string, unknown>, names: readonly string[]) {
  return Object.fromEntries(
    names.filter((n) => params[n] !== undefined).map((n) => [n, params[n]]),
  );
}

/** GET/POST `/config/<kind>` and GET/PUT/DELETE `/config/<kind>/{id}`, PBS-shaped. */
export function jobConfigRoutes(services: ServerServices, spec: JobConfigKind): Route[] {
  const base = `/config/${spec.kind}`;
  const optionNames = Object.keys(spec.options);
  const optional = Object.fromEntries(
    Object.entries(spec.options).map(([name, schema]) => [name, schema.optional()]),
  );
  const createShape = Object.fromEntries(
    Object.entries(spec.options).map(([name, schema]) => [
      name,
      spec.required.includes(name) ? schema : schema.optional(),
    ]),
  );
  const clearable = optionNames.filter((name) => !spec.required.includes(name));
  const find = async (id: string) => {
    const { jobs, digest } = await spec.source.read();
    const entry = Object.hasOwn(jobs, id) ? jobs[id] : undefined;
    if (entry === undefined) throw jobNotFound(spec.kind, id);
    return { entry, digest };
  };
  return [
    defineRoute({
      method: "GET",
      path: base,
      description: `List ${spec.title} jobs (those on datastores the caller may audit).`,
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: async ({ auth }) => {
        const { jobs, digest } = await spec.source.read();
        const shown = [];
        for (const [id, entry] of Object.entries(jobs).sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (await mayUseStore(services, auth, entry.store, spec.audit))
            shown.push({ id, ...entry });
        }
        return new ApiAnswer(shown, { digest });
      },
    }),
    defineRoute({
      method: "POST",
      path: base,
      description: `Create a ${spec.title} job.`,
      parameters: z.strictObject({ id: jobIdParam, ...createShape }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const store = (params as Record<string, unknown>).store as string;
        await requireStore(services, auth, store, spec.modify);
        await services.datastores.entry(store);
        const entry = definedFields(params, optionNames) as JobEntry;
        await spec.source.update((jobs) => {
          if (Object.hasOwn(jobs, params.id)) {
            throw new JobError("exists", `${spec.kind} job ${params.id} already exists`, {
              id: params.id,
            });
          }
          return { ...jobs, [params.id]: entry };
        });
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: `${base}/{id}`,
      description: `Read one ${spec.title} job.`,
      parameters: z.strictObject({ id: jobIdParam }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const { entry, digest } = await find(params.id);
        await requireStore(services, auth, entry.store, spec.audit);
        return new ApiAnswer({ id: params.id, ...entry }, { digest });
      },
    }),
    defineRoute({
      method: "PUT",
      path: `${base}/{id}`,
      description: `Change a ${spec.title} job; \`delete\` clears the named options.`,
      parameters: z.strictObject({
        id: jobIdParam,
        ...optional,
        delete: apiList(
          z.enum(clearable as [string, ...string[]], {
            error: `must be one of ${clearable.join(", ")}`,
          }),
        )
          .optional()
          .describe("Options to clear."),
        digest: digestParam,
      }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const { entry } = await find(params.id);
        await requireStore(services, auth, entry.store, spec.modify);
        const fields = definedFields(params, optionNames);
        if (typeof fields.store === "string" && fields.store !== entry.store) {
          await requireStore(services, auth, fields.store, spec.modify);
          await services.datastores.entry(fields.store);
        }
        const cleared = (params.delete as string[] | undefined) ?? [];
        const both = cleared.filter((name) => name in fields);
        if (both.length > 0)
          throw badParameters({ delete: `${both.join(", ")} both set and deleted` });
        await spec.source.update(
          (jobs) => {
            const current = Object.hasOwn(jobs, params.id) ? jobs[params.id] : undefined;
            if (current === undefined) throw jobNotFound(spec.kind, params.id);
            const next: Record<string, unknown> = { ...current, ...fields };
            for (const name of cleared) delete next[name];
            return { ...jobs, [params.id]: next as JobEntry };
          },
          params.digest as string | undefined,
        );
        return null;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: `${base}/{id}`,
      description: `Remove a ${spec.title} job.`,
      parameters: z.strictObject({ id: jobIdParam, digest: digestParam }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const { entry } = await find(params.id);
        await requireStore(services, auth, entry.store, spec.modify);
        await spec.source.update((jobs) => {
          if (!Object.hasOwn(jobs, params.id)) throw jobNotFound(spec.kind, params.id);
          const { [params.id]: _removed, ...rest } = jobs;
          return rest;
        }, params.digest);
        await spec.removed(params.id);
        return null;
      },
    }),
  ];
}
