import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { listCommand } from "../../appliance/cli/client-list.js";
import type { Terminal } from "../../appliance/client/terminal.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const OTHER = Array.from({ length: 32 }, () => "ab").join(":");

/** A terminal with a person who answers `answer` to every question. */
function person(answer: string, asked: string[]): Terminal {
  return {
    interactive: true,
    ask: async (question) => {
      asked.push(question);
      return answer;
    },
    askHidden: async () => "",
    note: (line) => asked.push(line),
    status: () => {},
  };
}

test("an unknown certificate is refused without a terminal, naming its fingerprint", async (t) => {
  const server = await startClientServer(t);
  const { CAIRN_FINGERPRINT: _, ...env } = server.env;
  await t.throwsAsync(listCommand({ outputFormat: "json" }, capturedEnvironment(env)), {
    code: "CAIRN_E_CLIENT_UNTRUSTED_SERVER",
    message: new RegExp(
      `not trusted .*its fingerprint is ${server.fingerprint}.*CAIRN_FINGERPRINT`,
    ),
  });
});

test("CAIRN_FINGERPRINT of another certificate is refused without a terminal", async (t) => {
  const server = await startClientServer(t);
  await t.throwsAsync(
    listCommand(
      { outputFormat: "json" },
      capturedEnvironment({ ...server.env, CAIRN_FINGERPRINT: OTHER }),
    ),
    { code: "CAIRN_E_CLIENT_UNTRUSTED_SERVER", message: /does not match CAIRN_FINGERPRINT ab:ab/ },
  );
});

test("a fingerprint accepted on a terminal is remembered; a changed one is then refused", async (t) => {
  const server = await startClientServer(t);
  const { CAIRN_FINGERPRINT: _, ...env } = server.env;
  const asked: string[] = [];
  await listCommand({ outputFormat: "json" }, capturedEnvironment(env, person("y", asked)));
  t.true(asked.some((line) => line.includes(`fingerprint: ${server.fingerprint}`)));
  t.true(asked.some((line) => /continue connecting\? \(y\/n\)/.test(line)));
  const file = join(env.XDG_CONFIG_HOME!, "cairn", "fingerprints");
  t.is(await readFile(file, "utf8"), `127.0.0.1:${server.port} ${server.fingerprint}\n`);

  // remembered: no question, no terminal needed
  const quiet = capturedEnvironment(env);
  await listCommand({ outputFormat: "json" }, quiet);
  t.deepEqual(JSON.parse(quiet.output().toString()), []);

  // a remembered fingerprint that no longer matches is refused without a terminal
  await writeFile(file, `127.0.0.1:${server.port} ${OTHER}\n`);
  await t.throwsAsync(listCommand({ outputFormat: "json" }, capturedEnvironment(env)), {
    code: "CAIRN_E_CLIENT_UNTRUSTED_SERVER",
    message: new RegExp(
      `changed from ${OTHER}; its fingerprint is ${server.fingerprint}.*remove 127\\.0\\.0\\.1:${server.port} from`,
    ),
  });

  // a declined question is a refusal
  const declined: string[] = [];
  await t.throwsAsync(
    listCommand(
      { outputFormat: "json" },
      capturedEnvironment({ ...env, CAIRN_FINGERPRINT: OTHER }, person("n", declined)),
    ),
    { code: "CAIRN_E_PROTOCOL_UNTRUSTED_SERVER" },
  );
});
