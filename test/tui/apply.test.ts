import test from "ava";
import type { ApplyEvent, StepId } from "../../appliance/setup/apply.js";
import { STEPS } from "../../appliance/setup/apply.js";
import type { SetupPlan } from "../../appliance/setup/plan.js";
import { planOf } from "../../tui/state.js";
import { frameOf, KEY, press, renderScreen, settle } from "./fixtures.js";

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join(":");

/** Fails the pool step on the first run; the retry finishes. */
function flakyRun(calls: (StepId | undefined)[]) {
  return async function* (_plan: SetupPlan, from: StepId | undefined): AsyncGenerator<ApplyEvent> {
    calls.push(from);
    for (const step of STEPS.slice(STEPS.findIndex((s) => s.id === (from ?? "network")))) {
      yield { type: "step-start", step: step.id, label: step.label };
      if (step.id === "pool" && calls.length === 1) {
        const error = new Error(
          "zpool create tank mirror /dev/sdb /dev/sdc failed (exit 1): no such device",
        );
        yield { type: "step-failed", step: step.id, error, completed: ["network"] };
        return;
      }
      yield { type: "step-done", step: step.id, detail: `${step.id} done` };
    }
    yield {
      type: "finished",
      result: {
        url: "https://192.0.2.10:8007",
        fingerprint: FINGERPRINT,
        repository: "admin@pbs@192.0.2.10:8007:store1",
        datastorePath: "/mnt/datastore/tank/store1",
      },
    };
  };
}

function atSummary() {
  const calls: (StepId | undefined)[] = [];
  const app = renderScreen(
    "summary",
    (state) => {
      const draft = {
        ...state.draft,
        disks: { ...state.draft.disks, selected: ["/dev/sdb", "/dev/sdc"] },
        admin: { ...state.draft.admin, password: "s3cret-pass", confirm: "s3cret-pass" },
      };
      return { ...state, draft, plan: planOf(draft) };
    },
    { run: flakyRun(calls) },
  );
  return { app, calls };
}

test("a failing step shows the command's error and offers retry; retry resumes there", async (t) => {
  const { app, calls } = atSummary();
  await press(app, KEY.enter);
  await settle(app, 60);
  let frame = frameOf(app);
  t.regex(frame, /Cairn setup: Applying/);
  t.regex(frame, /ok Network configuration\s+network done/);
  t.regex(frame, /!! ZFS pool\s+FAILED/);
  t.regex(
    frame,
    /ZFS pool failed:\s+zpool create tank mirror \/dev\/sdb \/dev\/sdc failed \(exit 1\): no such device/,
  );
  t.regex(frame, /\. {2}Datastore dataset/);
  t.regex(frame, /r retry the failed step/);
  await press(app, "r");
  await settle(app, 60);
  t.deepEqual(calls, [undefined, "pool"]);
  frame = frameOf(app);
  t.regex(frame, /Cairn setup: Done/);
  t.regex(frame, /https:\/\/192\.0\.2\.10:8007/);
  t.regex(frame, /00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f\n\s+10:11:12/);
  t.regex(frame, /cairn backup root\.pxar:\/ --repository admin@pbs@192\.0\.2\.10:8007:store1/);
  for (const line of frame.split("\n")) t.true(line.length <= 80, line);
});

test("back from a failure returns to the summary with the plan intact", async (t) => {
  const { app } = atSummary();
  await press(app, KEY.enter);
  await settle(app, 60);
  await press(app, "b");
  t.regex(frameOf(app), /Cairn setup: Summary/);
  t.regex(frameOf(app), /\/dev\/sdb \/dev\/sdc/);
});
