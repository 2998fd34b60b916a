import type { Command } from "commander";
import { ClientError } from "../client/errors.js";

/**
 * `cairn mount` exists so that PBS users find it, and says why it cannot work yet: Node has no
 * maintained FUSE binding to build it on.
 */
export function registerMount(program: Command): void {
  program
    .command("mount")
    .description("not available: browse with 'catalog shell', restore with 'restore --pattern'")
    .argument("[snapshot]", "TYPE/ID/TIME")
    .argument("[archive]", "root.pxar, …")
    .argument("[target]", "mount point")
    .allowUnknownOption()
    .action(() => {
      throw new ClientError(
        "unsupported",
        "cairn mount is not available: there is no maintained FUSE binding for Node.js to build it on. " +
          "Browse a snapshot and restore single files with 'cairn catalog shell SNAPSHOT ARCHIVE', " +
          "or restore part of an archive with 'cairn restore SNAPSHOT ARCHIVE TARGET --pattern GLOB'.",
      );
    });
}
