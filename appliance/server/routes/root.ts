import { z } from "zod";
import { VERSION } from "../../version.js";
import { defineRoute, type Route } from "../api/route.js";

/** `0.1.3` → version `0.1`, release `3`, as PBS splits its version. */
export function versionInfo(version = VERSION) {
  const [major = "0", minor = "0", ...rest] = version.split(".");
  return { version: `${major}.${minor}`, release: rest.join(".") || "0", repoid: "cairn" };
}

export function rootRoutes(): Route[] {
  return [
    defineRoute({
      method: "GET",
      path: "/version",
      description: "Version of the server: version, release, repoid.",
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: async () => versionInfo(),
    }),
    defineRoute({
      method: "GET",
      path: "/ping",
      description: "Liveness check; needs no authentication.",
      parameters: z.strictObject({}),
      permission: { kind: "anybody" },
      handler: async () => ({ pong: true }),
    }),
  ];
}
