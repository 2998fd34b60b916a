#!/usr/bin/env node
import { newProgram, runProgram } from "../appliance/cli/program.js";

const program = newProgram("cairn-setup", "The Cairn appliance console: first-boot setup and menu");
program.command("firstboot").description("guided setup of a fresh appliance (not available yet)");
program.command("console").description("the console menu (not available yet)");
await runProgram(program);
