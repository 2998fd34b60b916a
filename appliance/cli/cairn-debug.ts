#!/usr/bin/env node
import { registerDecode } from "./debug-decode.js";
import { registerInspect } from "./debug-inspect.js";
import { newProgram, runProgram } from "./program.js";

const program = newProgram("cairn-debug", "Inspect and decode Cairn/PBS on-disk files");
registerInspect(program);
registerDecode(program);
await runProgram(program);
