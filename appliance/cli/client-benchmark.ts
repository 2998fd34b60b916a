import type { Command } from "commander";
import { BENCHMARK_ROWS, type BenchmarkResult, runBenchmark } from "../client/benchmark.js";
import { type ClientEnvironment, openRepository } from "../client/repository-session.js";
import { commandEnvironment, json, withOutputFormat } from "./client-options.js";
import type { OutputFormat } from "./output.js";
import { renderTable } from "./table.js";

export interface BenchmarkCommandOptions {
  repository?: string;
  outputFormat: OutputFormat;
  timeScale?: number;
}

export function registerBenchmark(program: Command): void {
  withOutputFormat(program.command("benchmark"))
    .description(
      "measure hashing, compression, encryption and, with a repository, TLS upload speed",
    )
    .option("--repository <repo>", "measure the upload speed to this repository too")
    .action(async (options: BenchmarkCommandOptions) => {
      await benchmarkCommand(options, commandEnvironment());
    });
}

export async function benchmarkCommand(
  options: BenchmarkCommandOptions,
  environment: ClientEnvironment,
): Promise<BenchmarkResult> {
  const session =
    options.repository === undefined
      ? undefined
      : await openRepository(options.repository, environment);
  const result = await runBenchmark({
    ...(session && { address: session.address, store: session.repository.store }),
    ...(options.timeScale !== undefined && { timeScale: options.timeScale }),
  });
  if (options.outputFormat !== "text") {
    const rows = Object.fromEntries(
      BENCHMARK_ROWS.map((row) => [
        row.key,
        { ...(result[row.key] !== undefined && { speed: result[row.key] }), top: row.top },
      ]),
    );
    environment.stdout.write(json(rows, options.outputFormat));
    return result;
  }
  environment.stdout.write(
    renderTable(
      [
        { header: "Name", cell: (row: (typeof BENCHMARK_ROWS)[number]) => row.label },
        {
          header: "Value",
          cell: (row) => {
            const speed = result[row.key];
            if (speed === undefined) return "not tested";
            return `${(speed / 1e6).toFixed(2)} MB/s (${Math.round((speed / row.top) * 100)}%)`;
          },
        },
      ],
      BENCHMARK_ROWS,
    ),
  );
  return result;
}
