import type { ServerHttp2Session } from "node:http2";
import type { ProtocolSession, SessionOutcome } from "./call-table.js";
import { serveSession } from "./serve-session.js";
import type { ProtocolCaller, ProtocolHost } from "./upgrade-host.js";

/** What an accepted upgrade continues with (the transport's UpgradeSession, by shape). */
export interface AcceptedUpgrade {
  serve(h2: ServerHttp2Session): void;
  abandon(error: Error): void;
}

/** Log lines of a session, held until its task's log exists. */
export class LogRelay {
  #held: string[] = [];
  #sink: ((message: string) => void) | undefined;

  readonly log = (message: string): void => {
    if (this.#sink) this.#sink(message);
    else this.#held.push(message);
  };

  attach(sink: (message: string) => void): void {
    this.#sink = sink;
    for (const message of this.#held) sink(message);
    this.#held = [];
  }
}

export interface SessionTaskSpec {
  workerType: "backup" | "reader";
  workerId: string;
  auth: ProtocolCaller;
  session: ProtocolSession;
  relay: LogRelay;
  /** Called once the session has ended well (a backup finished). */
  onSuccess?: () => void;
}

/**
 * Runs a protocol session as a worker task (when the host offers tasks): the task lasts as long
 * as the connection, ends with an error when the session did (a backup without finish), and
 * stopping it cuts the connection. If the task cannot start, the session is closed again.
 */
export async function startSessionTask(
  host: ProtocolHost,
  spec: SessionTaskSpec,
): Promise<AcceptedUpgrade> {
  let settle!: (outcome: SessionOutcome) => void;
  const ended = new Promise<SessionOutcome>((resolve) => {
    settle = resolve;
  });
  let connection: ServerHttp2Session | undefined;
  let stopped = false;
  if (host.tasks) {
    try {
      await host.tasks.spawn({
        type: spec.workerType,
        id: spec.workerId,
        authId: spec.auth.authId,
        run: async (task) => {
          spec.relay.attach((message) => task.log(message));
          const stop = () => {
            stopped = true;
            connection?.destroy();
          };
          if (task.signal.aborted) stop();
          task.signal.addEventListener("abort", stop, { once: true });
          const outcome = await ended;
          task.signal.removeEventListener("abort", stop);
          if (!outcome.ok) throw new Error(outcome.message);
          spec.onSuccess?.();
        },
      });
    } catch (err) {
      await spec.session.close();
      throw err;
    }
  } else {
    spec.relay.attach(() => {}); // no task log to keep lines for
    void ended.then((outcome) => outcome.ok && spec.onSuccess?.());
  }
  return {
    serve(h2) {
      connection = h2;
      if (stopped) h2.destroy();
      void serveSession(h2, spec.session, {
        onServerError: (err, request) =>
          host.logger?.error({ err, ...request, worker: spec.workerId }, "protocol call failed"),
      }).then(settle);
    },
    abandon(error) {
      const fail = (message: string) => settle({ ok: false, message });
      spec.session.close().then(
        () => fail(`the connection failed before the session started: ${error.message}`),
        (err: Error) => fail(err.message),
      );
    },
  };
}
