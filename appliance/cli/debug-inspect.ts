import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { loadKeyFile } from "../client/key-file.js";
import { type InspectReport, inspectBytes } from "../format/inspect.js";
import { type OutputFormat, parseOutputFormat, printJson } from "./output.js";

/** `cairn-debug inspect FILE`: exit status 0 only when every check passes. */
export function registerInspect(program: Command): void {
  program
    .command("inspect <file>")
    .description("recognise a blob, chunk, index or manifest by its magic and check it")
    .option("--keyfile <path>", "encryption key: decrypt, and check the manifest signature")
    .option("--output-format <format>", "text, json or json-pretty", "text")
    .action(async (file: string, opts: { keyfile?: string; outputFormat: string }) => {
      const format = parseOutputFormat(opts.outputFormat);
      const crypt = opts.keyfile ? (await loadKeyFile(opts.keyfile)).cryptConfig : undefined;
      const report = inspectBytes(await readFile(file), { fileName: basename(file), crypt });
      printReport(file, report, format);
      if (!report.ok) process.exitCode = 1;
    });
}

function printReport(file: string, report: InspectReport, format: OutputFormat): void {
  if (format !== "text") {
    printJson({ file, ...report }, format);
    return;
  }
  const lines = [`${file}: ${report.kind}`];
  for (const [name, value] of Object.entries(report.fields)) lines.push(`  ${name}: ${value}`);
  for (const check of report.checks) {
    lines.push(`  check ${check.name}: ${check.ok ? "ok" : "FAILED"} (${check.detail})`);
  }
  lines.push(report.ok ? "all checks passed" : "some checks FAILED");
  process.stdout.write(`${lines.join("\n")}\n`);
}
