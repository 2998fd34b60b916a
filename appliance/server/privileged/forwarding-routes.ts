import type { CommandRunner } from "../../system/index.js";
import { RawAnswer } from "../api/answer.js";
import type { Route, RouteContext } from "../api/route.js";
import type { ServerServices } from "../routes/services.js";
import { systemRoutes } from "../routes/system.js";
import { forwardRequest, type PrivilegedAnswer } from "./forward-request.js";
import { PrivilegedServiceError, RelayedError } from "./privileged-errors.js";

/** The public daemon never runs a system command itself; reaching this is a bug. */
const noCommands: CommandRunner = {
  run: (command) => {
    throw new PrivilegedServiceError(
      "not-forwardable",
      `${command} must run in the privileged service, not in the public daemon`,
    );
  },
};

/**
 * The system routes as the public daemon serves them: the same paths, schemas and permissions
 * (checked here first, so unauthenticated or unauthorised requests never reach root), with a
 * handler that passes the request on to the privileged service and relays its answer.
 */
export function forwardingSystemRoutes(services: ServerServices, socketPath: string): Route[] {
  return systemRoutes(services, { runner: noCommands }).map((route) => ({
    ...route,
    handler: (context: RouteContext<unknown>) => forward(socketPath, context),
  }));
}

async function forward(socketPath: string, context: RouteContext<unknown>): Promise<unknown> {
  if (context.original === undefined) {
    throw new PrivilegedServiceError(
      "not-forwardable",
      "a forwarded route was called without the original request",
    );
  }
  const answer = await forwardRequest(socketPath, context.original);
  if (answer.status === 200) {
    const contentType = answer.headers["content-type"] ?? "application/json;charset=UTF-8";
    return new RawAnswer(answer.body, { contentType });
  }
  throw relayedFailure(socketPath, answer);
}

/** The privileged service's error answer as an error the dispatcher answers the same way. */
function relayedFailure(socketPath: string, answer: PrivilegedAnswer): Error {
  let body: { message?: unknown; code?: unknown; errors?: unknown } | undefined;
  try {
    body = JSON.parse(answer.body.toString("utf8"));
  } catch {
    body = undefined;
  }
  if (answer.status < 400 || answer.status > 599 || typeof body?.message !== "string") {
    return new PrivilegedServiceError(
      "bad-answer",
      `the privileged service on ${socketPath} answered ${answer.status} without an error message`,
      { socket: socketPath, status: answer.status },
    );
  }
  const code = typeof body.code === "string" ? body.code : "CAIRN_E_PRIVILEGED_REFUSED";
  const errors = typeof body.errors === "object" && body.errors !== null ? body.errors : undefined;
  return new RelayedError(code, body.message, answer.status, errors ? { errors } : {});
}
