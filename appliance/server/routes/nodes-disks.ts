import { z } from "zod";
import {
  type CommandRunner,
  createPoolArgs,
  createZfsDatastore,
  DEFAULT_MOUNT_ROOT,
  Disks,
  detectZfsCapabilities,
  RAID_LEVELS,
  type ZfsCapabilities,
  Zpool,
} from "../../system/index.js";
import { defineRoute, type Route } from "../api/route.js";
import { apiBoolean, apiInteger, apiList, storeName } from "../api/schema-types.js";
import { createConfiguredDatastore } from "../datastore-setup.js";
import { type FileOwner, giveTreeTo } from "../tasks/file-owner.js";
import { checkNode, nodeParam } from "./node.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

/** What the system routes need beyond the server's services; tests pass scratch values. */
export interface SystemRouteOptions {
  runner: CommandRunner;
  /** Where ZFS datastores mount; default /mnt/datastore. */
  mountRoot?: string;
  /** Root of the configuration files (`/` on the appliance). */
  root?: string;
  /** In the privileged service: who gets a new datastore's files (the public daemon's user). */
  datastoreOwner?: FileOwner;
}

const diskPath = z
  .string({ error: "must be a string" })
  .regex(/^(\/dev\/)?[A-Za-z0-9_.:-]+$/, { error: "must be a disk name like sdb or /dev/sdb" })
  .transform((disk) => (disk.startsWith("/dev/") ? disk : `/dev/${disk}`))
  .describe("Block device name.");

const audit = { kind: "privileges", path: "/system/disks", privileges: [PRIV.sysAudit] } as const;
const modify = { kind: "privileges", path: "/system/disks", privileges: [PRIV.sysModify] } as const;

export function nodesDiskRoutes(services: ServerServices, options: SystemRouteOptions): Route[] {
  const { tasks } = services;
  const disks = new Disks(options.runner);
  let capabilities: Promise<ZfsCapabilities> | undefined;
  const zpool = async () => {
    capabilities ??= detectZfsCapabilities(options.runner);
    return new Zpool(options.runner, await capabilities);
  };
  const node = nodeParam;

  return [
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/disks/list",
      description:
        "List local disks with their use (mounted, zfs, lvm, partitions, filesystem, unused).",
      parameters: z.strictObject({
        node,
        "include-partitions": apiBoolean().optional().describe("Also list partitions (nested)."),
        "usage-type": z
          .enum(["mounted", "zfs", "lvm", "partitions", "filesystem", "unused"])
          .optional(),
      }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        const listed = await disks.list();
        return listed
          .filter(
            (disk) => params["usage-type"] === undefined || disk.used === params["usage-type"],
          )
          .map((disk) => ({
            ...disk,
            children: params["include-partitions"] ? disk.children : undefined,
          }));
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/disks/smart",
      description: "SMART health and attributes of a disk.",
      parameters: z.strictObject({ node, disk: diskPath, healthonly: apiBoolean().optional() }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        const report = await disks.smart(params.disk);
        return params.healthonly ? { status: report.status } : report;
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/nodes/{node}/disks/wipedisk",
      description: "Wipe a disk: every signature and the partition table. Returns a task UPID.",
      parameters: z.strictObject({ node, disk: diskPath }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await disks.get(params.disk);
        return tasks.spawn({
          type: "wipedisk",
          id: params.disk.slice("/dev/".length),
          authId: auth!.authId,
          run: async (task) => {
            task.log(`wiping ${params.disk}`);
            await disks.wipe(params.disk);
          },
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/nodes/{node}/disks/initgpt",
      description: "Write an empty GPT to an unused disk. Returns a task UPID.",
      parameters: z.strictObject({ node, disk: diskPath, uuid: z.string().optional() }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        await disks.get(params.disk);
        return tasks.spawn({
          type: "diskinit",
          id: params.disk.slice("/dev/".length),
          authId: auth!.authId,
          run: async (task) => {
            task.log(`writing an empty GPT to ${params.disk}`);
            await disks.initGpt(params.disk);
          },
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/disks/zfs",
      description: "List ZFS pools (name, size, alloc, free, frag where available, health).",
      parameters: z.strictObject({ node }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        return (await zpool()).list();
      },
    }),
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/disks/zfs/{name}",
      description: "A pool's status as a tree of vdevs with states and error counters.",
      parameters: z.strictObject({ node, name: storeName }),
      permission: audit,
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        return (await zpool()).get(params.name);
      },
    }),
    defineRoute({
      method: "POST",
      path: "/nodes/{node}/disks/zfs",
      description:
        "Create a ZFS pool mounted at /mnt/datastore/<name> (atime and relatime on), optionally with a datastore. Returns a task UPID.",
      parameters: z.strictObject({
        node,
        name: storeName,
        devices: apiList(z.string({ error: "must be a string" }))
          .transform((list) => list.flatMap((item) => item.split(",")))
          .pipe(z.array(diskPath).min(1, { error: "name at least one disk" }))
          .describe("Disks (comma-separated list or repeated)."),
        raidlevel: z.enum(RAID_LEVELS, { error: `must be one of ${RAID_LEVELS.join(", ")}` }),
        ashift: apiInteger(9, 16).optional().describe("Pool sector size exponent (default 12)."),
        compression: z
          .enum(["gzip", "lz4", "lzjb", "zle", "zstd", "on", "off"])
          .optional()
          .describe("Compression (default lz4, or the best this ZFS offers)."),
        "add-datastore": apiBoolean().optional().describe("Configure a datastore in the pool."),
      }),
      permission: modify,
      handler: async ({ params, auth }) => {
        checkNode(params.node, tasks.node);
        const devices = params.devices;
        const pool = await zpool();
        const mountRoot = options.mountRoot ?? DEFAULT_MOUNT_ROOT;
        const request = {
          name: params.name,
          devices,
          raidlevel: params.raidlevel,
          ...(params.ashift !== undefined && { ashift: params.ashift }),
          ...(params.compression !== undefined && { compression: params.compression }),
          addDatastore: params["add-datastore"] === true,
        };
        // Refuse bad layouts and used disks now, with a 400/409, rather than in the task log.
        createPoolArgs(
          { ...request, mountpoint: `${mountRoot}/${params.name}` },
          pool.capabilities,
        );
        await disks.checkDevicesFree(devices);
        return tasks.spawn({
          type: "zfscreate",
          id: params.name,
          authId: auth!.authId,
          run: async (task) => {
            await createZfsDatastore(request, {
              runner: options.runner,
              capabilities: pool.capabilities,
              mountRoot,
              log: (message) => task.log(message),
              register: (name, path) =>
                createConfiguredDatastore(services.datastores, name, { path }, (message) =>
                  task.log(message),
                ),
            });
            if (request.addDatastore && options.datastoreOwner !== undefined) {
              // created as root, used by the unprivileged daemon: chunks, config file and its locks
              task.log(`giving the datastore to uid ${options.datastoreOwner.uid}`);
              await giveTreeTo(options.datastoreOwner, `${mountRoot}/${params.name}`);
              await giveTreeTo(options.datastoreOwner, services.datastores.config.dir);
            }
          },
        });
      },
    }),
  ];
}
