/**
 * What the console menu can do to the appliance: the same system and server functions setup
 * and the API use, bound to one machine. The TUI calls these and holds no system logic.
 */
import { AccessControl } from "../server/auth/access-control.js";
import { createUser, setPassword } from "../server/auth/accounts.js";
import type { ScryptCost } from "../server/auth/password-hash.js";
import type { CommandRunner } from "../system/command-runner.js";
import { detectZfsCapabilities } from "../system/zfs/capabilities.js";
import { Zpool } from "../system/zfs/zpool.js";
import type { PoolStatus } from "../system/zfs/zpool-status.js";
import { detectEnvironment, factsOf, type SetupEnvironment } from "./environment.js";
import { SetupError } from "./errors.js";
import { configureNetwork } from "./network-step.js";
import { adminProblems, type NetworkPlan, networkProblems, type Problem } from "./plan.js";

export type PowerAction = "reboot" | "poweroff";

export interface ConsoleActions {
  /** The machine as the network form shows it: interfaces and the configured network. */
  environment(): Promise<SetupEnvironment>;
  /** Applies a new management network; answers what was applied. */
  changeNetwork(network: NetworkPlan): Promise<string>;
  /** Sets the password of an existing user. */
  resetPassword(user: string, password: string): Promise<void>;
  poolStatus(): Promise<PoolStatus[]>;
  power(action: PowerAction): Promise<void>;
}

export interface ConsoleActionOptions {
  root: string;
  configDir: string;
  netns?: string;
  diskTypes?: string[];
  /** Password hashing cost (tests use a cheap one). */
  passwordCost?: ScryptCost;
}

function refuse(problems: Problem[]): never {
  const text = problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ");
  throw new SetupError("bad-plan", text, { problems });
}

export function consoleActions(
  runner: CommandRunner,
  options: ConsoleActionOptions,
): ConsoleActions {
  const target = {
    runner,
    root: options.root,
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  };
  const environment = () =>
    detectEnvironment(runner, {
      ...target,
      ...(options.diskTypes === undefined ? {} : { diskTypes: options.diskTypes }),
    });
  return {
    environment,
    async changeNetwork(network) {
      const problems = networkProblems(network, factsOf(await environment()));
      if (problems.length > 0) refuse(problems);
      return (await configureNetwork(network, target)).detail;
    },
    async resetPassword(user, password) {
      const problems = adminProblems({ user, password });
      if (problems.length > 0) refuse(problems);
      const access = await AccessControl.open(options.configDir);
      const cost = options.passwordCost ?? access.passwordCost;
      if ((await access.config.users.read()).users.has(user)) {
        await setPassword(access.config, user, password, cost);
      } else if (user === "root@pam") {
        // The superuser exists without an entry until its password is first set, as in setup.
        await createUser(access.config, user, {}, password, cost);
      } else {
        refuse([{ field: "admin.user", message: `${user} does not exist` }]);
      }
    },
    async poolStatus() {
      return new Zpool(runner, await detectZfsCapabilities(runner)).status();
    },
    async power(action) {
      await runner.run("systemctl", [action]);
    },
  };
}
