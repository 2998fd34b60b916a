import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ticketDir } from "./config-paths.js";
import { writePrivateFile } from "./private-file.js";

export interface CachedTicket {
  ticket: string;
  csrfToken: string;
  /** Epoch seconds when it was issued. */
  issued: number;
}

/** PBS tickets live two hours; one is reused for the first of them. */
const REUSE_SECONDS = 3600;

/** Tickets from `POST /access/ticket`, by `<auth-id> <server>`, readable by the owner only. */
export class TicketCache {
  readonly path: string;

  constructor(directory: string = ticketDir()) {
    this.path = join(directory, "tickets.json");
  }

  async lookup(
    authId: string,
    server: string,
    now = Date.now() / 1000,
  ): Promise<CachedTicket | undefined> {
    const entry = (await this.#read())[`${authId} ${server}`];
    return entry !== undefined && now - entry.issued < REUSE_SECONDS ? entry : undefined;
  }

  async store(authId: string, server: string, ticket: CachedTicket): Promise<void> {
    const entries = await this.#read();
    entries[`${authId} ${server}`] = ticket;
    await writePrivateFile(this.path, JSON.stringify(entries));
  }

  /** Forgets a ticket; true when there was one. */
  async remove(authId: string, server: string): Promise<boolean> {
    const entries = await this.#read();
    const key = `${authId} ${server}`;
    if (!(key in entries)) return false;
    delete entries[key];
    await writePrivateFile(this.path, JSON.stringify(entries));
    return true;
  }

  async #read(): Promise<Record<string, CachedTicket>> {
    try {
      const parsed = JSON.parse(await readFile(this.path, "utf8")) as unknown;
      return typeof parsed === "object" && parsed !== null
        ? (parsed as Record<string, CachedTicket>)
        : {};
    } catch {
      return {}; // missing or unreadable: log in again
    }
  }
}
