#!/usr/bin/env node
import { newProgram, runProgram } from "./program.js";

const program = newProgram("cairn-debug", "Inspect and decode Cairn/PBS on-disk files");
program
  .command("inspect")
  .description("recognise a file by its magic and check it (not available yet)");
program
  .command("decode")
  .description("write the decoded content of a blob or chunk (not available yet)");
await runProgram(program);
