import type { Command } from "commander";
import { isTokenAuthId, serverKey } from "../client/repository.js";
import {
  type ClientEnvironment,
  openRepository,
  resolveRepository,
} from "../client/repository-session.js";
import { commandEnvironment, withRepository } from "./client-options.js";

export function registerLogin(program: Command): void {
  withRepository(program.command("login"))
    .description("log in and keep the ticket for later commands")
    .action((options: { repository?: string }) => loginCommand(options, commandEnvironment()));
  withRepository(program.command("logout"))
    .description("forget the kept ticket")
    .action((options: { repository?: string }) => logoutCommand(options, commandEnvironment()));
}

export async function loginCommand(
  options: { repository?: string },
  environment: ClientEnvironment,
): Promise<void> {
  const session = await openRepository(options.repository, environment, { freshLogin: true });
  if (isTokenAuthId(session.repository.authId)) {
    environment.terminal.note("API tokens need no login: their secret is sent with every request");
  }
}

export async function logoutCommand(
  options: { repository?: string },
  environment: ClientEnvironment,
): Promise<void> {
  const repository = resolveRepository(options.repository, environment.env);
  await environment.tickets.remove(repository.authId, serverKey(repository));
}
