import { hostname as osHostname } from "node:os";
import { NotificationError } from "./errors.js";
import { targetsFor } from "./matcher.js";
import type { Notification } from "./notification.js";
import { findTarget, type NotificationsConfig } from "./notification-config.js";
import { DEFAULT_SENDMAIL, sendMail } from "./sendmail.js";
import { sendWebhook } from "./webhook.js";

export interface NotifierOptions {
  /** The configuration as it is now, read for every notification. */
  config: () => Promise<NotificationsConfig>;
  /** The sendmail program (default /usr/sbin/sendmail). */
  sendmailPath?: string;
  hostname?: string;
  /** Where failed deliveries are reported; they never reach the job that caused them. */
  onError: (message: string, err: unknown) => void;
}

/**
 * Sends notifications to the targets the matchers select, in the background: a slow or failing
 * target delays and fails nothing but its own delivery.
 */
export class Notifier {
  readonly hostname: string;
  readonly #options: NotifierOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: NotifierOptions) {
    this.#options = options;
    this.hostname = options.hostname ?? osHostname();
  }

  /** Queues a notification (or the work of building one); never throws. */
  notify(notification: Notification | (() => Promise<Notification | undefined>)): void {
    const delivery = (async () => {
      const built = typeof notification === "function" ? await notification() : notification;
      if (built === undefined) return;
      const config = await this.#options.config();
      await Promise.all(
        targetsFor(config, built).map((name) =>
          this.#deliver(config, name, built).catch((err: unknown) =>
            this.#options.onError(`notification "${built.title}" to ${name} failed`, err),
          ),
        ),
      );
    })().catch((err: unknown) => this.#options.onError("cannot send a notification", err));
    this.#pending.add(delivery);
    void delivery.finally(() => this.#pending.delete(delivery));
  }

  /** Sends to one target now, whatever the matchers say (the API's test); throws on failure. */
  async send(name: string, notification: Notification): Promise<void> {
    await this.#deliver(await this.#options.config(), name, notification);
  }

  /** Resolves when every notification queued so far is delivered or has failed. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #deliver(config: NotificationsConfig, name: string, notification: Notification) {
    const found = findTarget(config, name);
    if (found === undefined) {
      throw new NotificationError("not-found", `notification target ${name} does not exist`, {
        name,
      });
    }
    if (found.type === "webhook") return sendWebhook(name, found.target, notification);
    return sendMail(name, found.target, notification, {
      sendmailPath: this.#options.sendmailPath ?? DEFAULT_SENDMAIL,
      hostname: this.hostname,
    });
  }
}
