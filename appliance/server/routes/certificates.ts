import { z } from "zod";
import { defineRoute, type Route } from "../api/route.js";
import { apiBoolean } from "../api/schema-types.js";
import { checkNode, nodeParam } from "./node.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const CERT_ACL = "/system/certificates";
const pem = (what: string) =>
  z
    .string({ error: "must be a string" })
    .max(256 * 1024, { error: "must be at most 262144 characters long" })
    .describe(what);

export function certificateRoutes(services: ServerServices): Route[] {
  const { certificates, tasks } = services;
  return [
    defineRoute({
      method: "GET",
      path: "/nodes/{node}/certificates/info",
      description: "The TLS certificate in use: fingerprint, subject, SANs, validity, PEM.",
      parameters: z.strictObject({ node: nodeParam }),
      permission: { kind: "privileges", path: "/system/certificates", privileges: [PRIV.sysAudit] },
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        return [await certificates.info()];
      },
    }),
    defineRoute({
      method: "POST",
      path: "/nodes/{node}/certificates/custom",
      description:
        "Install a custom certificate (PEM chain, leaf first) and its key; TLS switches to it without a restart.",
      parameters: z.strictObject({
        node: nodeParam,
        certificates: pem("PEM certificate chain, leaf first."),
        key: pem("PEM private key of the leaf certificate."),
        force: apiBoolean()
          .optional()
          .describe("Accepted for compatibility; existing files are always replaced."),
        restart: apiBoolean()
          .optional()
          .describe("Accepted for compatibility; TLS is reloaded anyway."),
      }),
      permission: { kind: "privileges", path: CERT_ACL, privileges: [PRIV.sysModify] },
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        return [await certificates.install({ certPem: params.certificates, keyPem: params.key })];
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/nodes/{node}/certificates/custom",
      description: "Replace the custom certificate with a new self-signed one.",
      parameters: z.strictObject({
        node: nodeParam,
        restart: apiBoolean()
          .optional()
          .describe("Accepted for compatibility; TLS is reloaded anyway."),
      }),
      permission: { kind: "privileges", path: CERT_ACL, privileges: [PRIV.sysModify] },
      handler: async ({ params }) => {
        checkNode(params.node, tasks.node);
        await certificates.regenerate();
        return null;
      },
    }),
  ];
}
