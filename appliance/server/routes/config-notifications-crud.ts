import { z } from "zod";
import { NotificationError } from "../../jobs/notifications/errors.js";
import type { NotificationsConfig } from "../../jobs/notifications/notification-config.js";
import { ApiAnswer } from "../api/answer.js";
import { badParameters } from "../api/api-errors.js";
import { defineRoute, type Route } from "../api/route.js";
import { apiList, safeId } from "../api/schema-types.js";
import type { JsonConfigFile } from "../config/json-config-file.js";
import { PRIV } from "./privileges.js";

export type NotificationsFile = JsonConfigFile<z.ZodType<NotificationsConfig>>;
type Section = keyof NotificationsConfig;
type Entry = Record<string, unknown>;

/** One section of notifications.json (sendmail, webhook, matcher) as a REST collection. */
export interface NotificationSection {
  /** Below `/config/notifications`, e.g. `/endpoints/webhook`. */
  path: string;
  section: Section;
  title: string;
  /** API parameters of an entry besides its name. */
  options: Record<string, z.ZodType>;
  required: readonly string[];
  /** Fields the API takes but never shows (secrets). */
  hidden?: readonly string[];
  /** Refuses an entry that does not fit the rest of the configuration (400, 409). */
  check(config: NotificationsConfig, name: string, entry: Entry): void;
  /** Why the entry may not be removed, if it may not. */
  usedBy?(config: NotificationsConfig, name: string): string | undefined;
}

export const notificationName = safeId(2, 32).describe("Name of the target or matcher.");

const AUDIT = {
  kind: "privileges",
  path: "/system/notifications",
  privileges: [PRIV.sysAudit],
} as const;
const MODIFY = {
  kind: "privileges",
  path: "/system/notifications",
  privileges: [PRIV.sysModify],
} as const;

const digestParam = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" })
  .optional()
  .describe("Digest of the configuration read before, to refuse concurrent changes.");

function notFound(spec: NotificationSection, name: string): NotificationError {
  return new NotificationError(
    "not-found",
    `${spec.title} ${JSON.stringify(name)} does not exist`,
    {
      name,
    },
  );
}

function entries(config: NotificationsConfig, section: Section): Record<string, Entry> {
  return config[section] as Record<string, Entry>;
}

function shown(spec: NotificationSection, name: string, entry: Entry): Entry {
  const visible: Entry = { name, ...entry };
  for (const field of spec.hidden ?? []) delete visible[field];
  return visible;
}

function given(params: Record<string, unknown>, names: readonly string[]): Entry {
  return Object.fromEntries(
    names.filter((n) => params[n] !== undefined).map((n) => [n, params[n]]),
  );
}

/** GET/POST `/config/notifications/<path>` and GET/PUT/DELETE `…/{name}`. */
export function notificationSectionRoutes(
  file: NotificationsFile,
  spec: NotificationSection,
): Route[] {
  const base = `/config/notifications${spec.path}`;
  const names = Object.keys(spec.options);
  const clearable = names.filter((name) => !spec.required.includes(name));
  const optional = Object.fromEntries(
    Object.entries(spec.options).map(([name, schema]) => [name, schema.optional()]),
  );
  const createShape = Object.fromEntries(
    Object.entries(spec.options).map(([name, schema]) => [
      name,
      spec.required.includes(name) ? schema : schema.optional(),
    ]),
  );
  const change = (
    name: string,
    edit: (config: NotificationsConfig) => Entry | undefined,
    digest?: string,
  ) =>
    file.update((config) => {
      const entry = edit(config);
      const next = { ...entries(config, spec.section) };
      if (entry === undefined) delete next[name];
      else {
        spec.check(config, name, entry);
        next[name] = entry;
      }
      return { ...config, [spec.section]: next };
    }, digest);
  return [
    defineRoute({
      method: "GET",
      path: base,
      description: `List ${spec.title}s.`,
      parameters: z.strictObject({}),
      permission: AUDIT,
      handler: async () => {
        const { value, digest } = await file.read();
        const list = Object.entries(entries(value, spec.section))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([name, entry]) => shown(spec, name, entry));
        return new ApiAnswer(list, { digest });
      },
    }),
    defineRoute({
      method: "POST",
      path: base,
      description: `Create a ${spec.title}.`,
      parameters: z.strictObject({ name: notificationName, ...createShape }),
      permission: MODIFY,
      handler: async ({ params }) => {
        await change(params.name, (config) => {
          if (Object.hasOwn(entries(config, spec.section), params.name)) {
            throw new NotificationError("exists", `${spec.title} ${params.name} already exists`, {
              name: params.name,
            });
          }
          return given(params, names);
        });
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: `${base}/{name}`,
      description: `Read one ${spec.title}.`,
      parameters: z.strictObject({ name: notificationName }),
      permission: AUDIT,
      handler: async ({ params }) => {
        const { value, digest } = await file.read();
        const all = entries(value, spec.section);
        if (!Object.hasOwn(all, params.name)) throw notFound(spec, params.name);
        return new ApiAnswer(shown(spec, params.name, all[params.name]!), { digest });
      },
    }),
    defineRoute({
      method: "PUT",
      path: `${base}/{name}`,
      description: `Change a ${spec.title}; \`delete\` clears the named options.`,
      parameters: z.strictObject({
        name: notificationName,
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
      permission: MODIFY,
      handler: async ({ params }) => {
        const fields = given(params, names);
        const cleared = (params.delete as string[] | undefined) ?? [];
        const both = cleared.filter((name) => name in fields);
        if (both.length > 0) {
          throw badParameters({ delete: `${both.join(", ")} both set and deleted` });
        }
        await change(
          params.name,
          (config) => {
            const all = entries(config, spec.section);
            if (!Object.hasOwn(all, params.name)) throw notFound(spec, params.name);
            const next: Entry = { ...all[params.name], ...fields };
            for (const name of cleared) delete next[name];
            return next;
          },
          params.digest as string | undefined,
        );
        return null;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: `${base}/{name}`,
      description: `Remove a ${spec.title}.`,
      parameters: z.strictObject({ name: notificationName, digest: digestParam }),
      permission: MODIFY,
      handler: async ({ params }) => {
        await change(
          params.name,
          (config) => {
            if (!Object.hasOwn(entries(config, spec.section), params.name)) {
              throw notFound(spec, params.name);
            }
            const user = spec.usedBy?.(config, params.name);
            if (user !== undefined) {
              throw new NotificationError(
                "in-use",
                `${spec.title} ${params.name} is used by ${user}`,
                {
                  name: params.name,
                },
              );
            }
            return undefined;
          },
          params.digest,
        );
        return null;
      },
    }),
  ];
}
