import { z } from "zod";
import {
  applyInterfaces,
  type InterfaceConfig,
  liveInterfaces,
  NetworkConfigFiles,
  readDns,
  readTimezone,
  SystemError,
  writeDns,
  writeTimezone,
} from "../../system/index.js";
import { defineRoute, type Route } from "../api/route.js";
import { apiBoolean } from "../api/schema-types.js";
import { runTaskToEnd } from "../tasks/task-to-end.js";
import { checkNode, nodeParam } from "./node.js";
import type { SystemRouteOptions } from "./nodes-disks.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const audit = { kind: "privileges", path: "/system/network", privileges: [PRIV.sysAudit] } as const;
const modify = {
  kind: "privileges",
  path: "/system/network",
  privileges: [PRIV.sysModify],
} as const;
const timeModify = {
  kind: "privileges",
  path: "/system/time",
  privileges: [PRIV.sysModify],
} as const;

const ifaceName = z
  .string({ error: "must be a string" })
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/, { error: "must be an interface name like eth0" });
const method = z.enum(["static", "dhcp", "manual"]).optional();
const text = (max: number) => z.string({ error: "must be a string" }).max(max);

/** PBS's interface fields (cidr, gateway, method and their v6 twins, autostart). */
const ifaceFields = {
  autostart: apiBoolean().optional(),
  method: method.describe("IPv4 method."),
  cidr: text(64).optional().describe("IPv4 address with prefix."),
  gateway: text(64).optional().describe("IPv4 gateway."),
  method6: method.describe("IPv6 method."),
  cidr6: text(64).optional().describe("IPv6 address with prefix."),
  gateway6: text(64).optional().describe("IPv6 gateway."),
};

function toConfig(iface: string, params: Record<string, unknown>): InterfaceConfig {
  const config: InterfaceConfig = { name: iface, autostart: params.autostart === true };
  const map = [
    ["method", "method4"],
    ["cidr", "cidr4"],
    ["gateway", "gateway4"],
    ["method6", "method6"],
    ["cidr6", "cidr6"],
    ["gateway6", "gateway6"],
  ] as const;
  for (const [from, to] of map) {
    if (params[from] !== undefined)
      (config as unknown as Record<string, unknown>)[to] = params[from];
  }
  if (config.cidr4 !== undefined && config.method4 === undefined) config.method4 = "static";
  if (config.cidr6 !== undefined && config.method6 === undefined) config.method6 = "static";
  return config;
}

/** The staged fields in one line for the task log, e.g. `method4=static cidr4=192.0.2.10/24`. */
function describeConfig(config: InterfaceConfig): string {
  const keys = [
    "autostart",
    "method4",
    "cidr4",
    "gateway4",
    "method6",
    "cidr6",
    "gateway6",
  ] as const;
  return keys
    .filter((key) => config[key] !== undefined)
    .map((key) => `${key}=${String(config[key])}`)
    .join(" ");
}

export function nodesNetworkRoutes(services: ServerServices, options: SystemRouteOptions): Route[] {
  const { tasks } = services;
  const root = options.root ?? "/";
  const files = new NetworkConfigFiles(root);
  const node = nodeParam;

  return [
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/network",
      description: "Configured interfaces (staged changes included) with their live state.",
      parameters: z.strictObject({ node }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        const configured = (await files.pending()) ?? (await files.current());
        const live = await liveInterfaces(options.runner);
        const names = new Set([...configured.map((c) => c.name), ...live.map((i) => i.name)]);
        return [...names].sort().map((name) => ({
          iface: name,
          config: configured.find((c) => c.name === name),
          live: live.find((i) => i.name === name),
        }));
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/network/{iface}",
      description: "One interface's configuration.",
      parameters: z.strictObject({ node, iface: ifaceName }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        const configured = (await files.pending()) ?? (await files.current());
        const found = configured.find((c) => c.name === params.iface);
        if (!found)
          throw new SystemError("not-found", `interface ${params.iface} is not configured`);
        return found;
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/nodes/{node}/network/{iface}",
      description: "Stage a change to an interface (applied by PUT /nodes/{node}/network).",
      parameters: z.strictObject({ node, iface: ifaceName, ...ifaceFields }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        const config = toConfig(params.iface, params);
        await runTaskToEnd(tasks, {
          type: "netstage",
          id: params.iface,
          authId: auth!.authId,
          run: async (task) => {
            task.log(`staging ${params.iface}: ${describeConfig(config)}`);
            await files.stage(config);
          },
        });
        return null;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/nodes/{node}/network/{iface}",
      description: "Stage removing an interface's configuration.",
      parameters: z.strictObject({ node, iface: ifaceName }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await runTaskToEnd(tasks, {
          type: "netstage",
          id: params.iface,
          authId: auth!.authId,
          run: async (task) => {
            task.log(`staging the removal of ${params.iface}`);
            await files.stageRemoval(params.iface);
          },
        });
        return null;
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/nodes/{node}/network",
      description: "Apply the staged network configuration. Returns a task UPID.",
      parameters: z.strictObject({ node }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        if ((await files.pending()) === undefined) {
          throw new SystemError("not-found", "no staged network changes");
        }
        return tasks.spawn({
          type: "srvreload",
          id: "networking",
          authId: auth!.authId,
          run: async (task) => {
            const configs = await files.commit();
            try {
              await applyInterfaces(options.runner, configs);
            } catch (err) {
              task.log(
                `apply failed, restoring the previous configuration: ${(err as Error).message}`,
              );
              await applyInterfaces(options.runner, await files.restorePrevious()).catch(() => {});
              throw err;
            }
          },
        });
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/nodes/{node}/network",
      description: "Revert the staged network changes.",
      parameters: z.strictObject({ node }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await runTaskToEnd(tasks, {
          type: "netrevert",
          authId: auth!.authId,
          run: async (task) => {
            task.log("reverting the staged network changes");
            await files.revert();
          },
        });
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/dns",
      description: "Search domain and name servers.",
      parameters: z.strictObject({ node }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        return readDns(root);
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/nodes/{node}/dns",
      description: "Write the search domain and up to three name servers.",
      parameters: z.strictObject({
        node,
        search: text(253).optional(),
        dns1: text(64).optional(),
        dns2: text(64).optional(),
        dns3: text(64).optional(),
      }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        const { node: _node, ...dns } = params;
        await runTaskToEnd(tasks, {
          type: "dnsupdate",
          authId: auth!.authId,
          run: async (task) => {
            const servers = [dns.dns1, dns.dns2, dns.dns3].filter((server) => server !== undefined);
            task.log(
              `writing DNS: search ${dns.search ?? "(none)"}, name servers ${servers.join(" ") || "(none)"}`,
            );
            await writeDns(root, dns);
          },
        });
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/time",
      description: "Time zone and current time.",
      parameters: z.strictObject({ node }),
      permission: { kind: "authenticated" },
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        const time = Math.floor(Date.now() / 1000);
        const offset = -new Date().getTimezoneOffset() * 60;
        return { timezone: await readTimezone(root), time, localtime: time + offset };
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/nodes/{node}/time",
      description: "Set the time zone.",
      parameters: z.strictObject({ node, timezone: text(64) }),
      permission: timeModify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await runTaskToEnd(tasks, {
          type: "timezone",
          authId: auth!.authId,
          run: async (task) => {
            task.log(`setting the time zone to ${params.timezone}`);
            await writeTimezone(root, params.timezone);
          },
        });
        return null;
      },
    }),
  ];
}
