import { z } from "zod";
import { ApiError } from "../api/api-errors.js";

export const nodeParam = z
  .string({ error: "must be a string" })
  .max(64, { error: "must be at most 64 characters long" })
  .describe("Node name ('localhost' or this node's name).");

/** Only this node exists: `localhost` or its own name, as PBS accepts. */
export function checkNode(node: string, ownName: string): void {
  if (node !== "localhost" && node !== ownName) {
    throw new ApiError("not-found", `no such node ${JSON.stringify(node)}`);
  }
}
