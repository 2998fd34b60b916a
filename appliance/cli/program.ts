import { Command } from "commander";
import { VERSION } from "../version.js";

/** A commander program with the conventions every Cairn executable shares. */
export function newProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
}

/** Runs a program and turns a thrown error into a one-line message and exit status 1. */
export async function runProgram(program: Command, argv = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.stderr.write(
      `${program.name()}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 1;
  }
}
