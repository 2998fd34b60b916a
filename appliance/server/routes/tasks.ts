import { z } from "zod";
import { ownerMatches } from "../../datastore/owner.js";
import { ApiAnswer } from "../api/answer.js";
import { forbidden } from "../api/api-errors.js";
import { type AuthInfo, defineRoute, type Route } from "../api/route.js";
import { apiBoolean, apiInteger, apiList } from "../api/schema-types.js";
import { holdsPrivileges } from "../request-access.js";
import { parseUpid } from "../tasks/upid.js";
import { checkNode, nodeParam } from "./node.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const TASKS_ACL = "/system/tasks";
const upidParam = z
  .string({ error: "must be a string" })
  .max(512, { error: "must be at most 512 characters long" })
  .superRefine((text, ctx) => {
    try {
      parseUpid(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  })
  .describe("Unique process/task ID (UPID).");

const taskParams = z.strictObject({ node: nodeParam, upid: upidParam });

/** A caller sees and stops its own tasks (a user also its tokens'); others need the privilege. */
async function requireTaskAccess(
  services: ServerServices,
  auth: AuthInfo | undefined,
  upid: string,
  privilege: string,
): Promise<void> {
  const { authId } = parseUpid(upid);
  if (auth && ownerMatches(authId, auth.authId)) return;
  if (await holdsPrivileges(services.access, auth, TASKS_ACL, [privilege])) return;
  throw forbidden(
    `permission check failed - task ${upid} belongs to ${authId}; needs ${privilege} on ${TASKS_ACL}`,
  );
}

export function taskRoutes(services: ServerServices): Route[] {
  const { tasks } = services;
  return [
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/tasks",
      description:
        "List tasks, newest first. Users see their own tasks; Sys.Audit on /system/tasks shows all.",
      parameters: z.strictObject({
        node: nodeParam,
        start: apiInteger(0).default(0).describe("List tasks beginning from this offset."),
        limit: apiInteger(0).default(50).describe("Only list this many tasks (0: no limit)."),
        errors: apiBoolean().default(false).describe("Only list erroneous tasks."),
        running: apiBoolean().default(false).describe("Only list running tasks."),
        userfilter: z.string().max(128).optional().describe("Only list tasks of this auth id."),
        since: apiInteger(0).optional().describe("Only list tasks started since (epoch)."),
        until: apiInteger(0).optional().describe("Only list tasks started until (epoch)."),
        typefilter: z
          .string()
          .max(64)
          .optional()
          .describe("Only list tasks whose type contains this."),
        statusfilter: apiList(z.enum(["ok", "warning", "error", "unknown"]))
          .optional()
          .describe("Only list tasks with these end states."),
      }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        const all = await holdsPrivileges(services.access, auth, TASKS_ACL, [PRIV.sysAudit]);
        const caller = auth!.authId;
        const { items, total } = await tasks.list(
          {
            running: params.running,
            errors: params.errors,
            userfilter: params.userfilter,
            since: params.since,
            until: params.until,
            typefilter: params.typefilter,
            statusfilter: params.statusfilter,
          },
          0,
          0,
        );
        const visible = all ? items : items.filter((item) => ownerMatches(item.user, caller));
        const end = params.limit === 0 ? undefined : params.start + params.limit;
        return new ApiAnswer(visible.slice(params.start, end), {
          total: all ? total : visible.length,
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/tasks/{upid}",
      description: "Directory index of a task.",
      parameters: taskParams,
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await requireTaskAccess(services, auth, params.upid, PRIV.sysAudit);
        return [{ subdir: "log" }, { subdir: "status" }];
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/nodes/{node}/tasks/{upid}",
      description: "Stop a running task (its own user, or Sys.Modify on /system/tasks).",
      parameters: taskParams,
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await requireTaskAccess(services, auth, params.upid, PRIV.sysModify);
        tasks.abort(params.upid);
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/tasks/{upid}/status",
      description: "Status of a task: running or stopped, with its exit status.",
      parameters: taskParams,
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await requireTaskAccess(services, auth, params.upid, PRIV.sysAudit);
        return tasks.status(params.upid);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/tasks/{upid}/log",
      description: "Lines of a task's log: [{n, t}], with total and active.",
      parameters: z.strictObject({
        node: nodeParam,
        upid: upidParam,
        start: apiInteger(0).default(0).describe("Start at this line (0-based)."),
        limit: apiInteger(0).default(50).describe("Only this many lines (0: all)."),
        download: apiBoolean().default(false).describe("Whether the client wants the whole log."),
      }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await requireTaskAccess(services, auth, params.upid, PRIV.sysAudit);
        const limit = params.download ? 0 : params.limit;
        const { lines, total } = await tasks.readLog(params.upid, params.start, limit);
        const active = (await tasks.status(params.upid)).status === "running";
        return new ApiAnswer(lines, { total, active });
      },
    }),
  ];
}
