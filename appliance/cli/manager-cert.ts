import type { Command } from "commander";
import { readCertificateInfo } from "../server/tls/certificate-files.js";
import type { CertificateInfo } from "../server/tls/certificate-info.js";
import { LocalApiError } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { printRecord, showEpoch, withOutputFormat } from "./manager-output.js";
import type { OutputFormat } from "./output.js";

/** From the running server, else (it isn't running) from the certificate file itself. */
async function certificateInfo(manager: ManagerContext): Promise<CertificateInfo> {
  try {
    const { data } = await manager
      .api()
      .get<CertificateInfo[]>("/nodes/localhost/certificates/info");
    return data[0]!;
  } catch (err) {
    if (!(err instanceof LocalApiError && err.kind === "not-running")) throw err;
    const info = await readCertificateInfo(manager.dirs.configDir);
    process.stderr.write(`the server is not running; read ${info.filename}\n`);
    return info;
  }
}

/** `cairn-manager cert info`. */
export function registerCertCommands(program: Command, manager: ManagerContext): void {
  const cert = program.command("cert").description("show the server's TLS certificate");

  withOutputFormat(
    cert.command("info").description("subject, names, validity and fingerprint"),
  ).action(async (options: { outputFormat: OutputFormat }) => {
    const info = await certificateInfo(manager);
    const key = `${info["public-key-type"]}${info["public-key-bits"] ? ` ${info["public-key-bits"]} bits` : ""}`;
    printRecord(options.outputFormat, info, [
      ["subject", info.subject],
      ["issuer", info.issuer],
      ["san", info.san.join(", ")],
      ["notbefore", showEpoch(info.notbefore)],
      ["notafter", showEpoch(info.notafter)],
      ["public key", key],
      ["fingerprint", info.fingerprint],
    ]);
  });
}
