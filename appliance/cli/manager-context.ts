import { type Command, Option } from "commander";
import { embeddedLayout } from "../server/embedded.js";
import { localApiSocketPath } from "../server/local-api-socket.js";
import { LocalApi } from "./local-api.js";

/** cairn-server's defaults, so both find the same directories without options. */
export const DEFAULT_CONFIG_DIR = "/etc/cairn";
export const DEFAULT_STATE_DIR = "/var/lib/cairn";

interface LocationOptions {
  configDir: string;
  stateDir: string;
  embedded?: string | true;
}

/** `--config-dir`, `--state-dir` and `--embedded` on the program, as cairn-server takes them. */
export function addLocationOptions(program: Command): void {
  program
    .addOption(
      new Option("--config-dir <dir>", "configuration directory of the server")
        .env("CAIRN_CONFIG_DIR")
        .default(DEFAULT_CONFIG_DIR),
    )
    .addOption(
      new Option("--state-dir <dir>", "state directory of the server (holds the admin socket)")
        .env("CAIRN_STATE_DIR")
        .default(DEFAULT_STATE_DIR),
    )
    .addOption(
      new Option(
        "--embedded [dir]",
        "for a server started as 'cairn-server --embedded [dir]' (default dir: cairn-data); replaces both dirs",
      ),
    );
}

/** What every cairn-manager command works with: the server's directories and its admin socket. */
export class ManagerContext {
  constructor(private readonly program: Command) {}

  get dirs(): { configDir: string; stateDir: string } {
    const options = this.program.opts<LocationOptions>();
    if (options.embedded === undefined) return options;
    return embeddedLayout(options.embedded === true ? "cairn-data" : options.embedded);
  }

  /** How to start the server these options point at. */
  get startCommand(): string {
    const options = this.program.opts<LocationOptions>();
    if (options.embedded !== undefined) {
      return options.embedded === true
        ? "cairn-server --embedded"
        : `cairn-server --embedded ${options.embedded}`;
    }
    const dirs = [
      ...(options.configDir === DEFAULT_CONFIG_DIR ? [] : ["--config-dir", options.configDir]),
      ...(options.stateDir === DEFAULT_STATE_DIR ? [] : ["--state-dir", options.stateDir]),
    ];
    return ["cairn-server", ...dirs].join(" ");
  }

  api(): LocalApi {
    return new LocalApi(localApiSocketPath(this.dirs.stateDir), this.startCommand);
  }
}
