#!/usr/bin/env bun
/** The isolate CLI: parse -> Spec -> library -> print. */
import { defineCommand, renderUsage, runCommand } from "citty";
import { SpecError } from "../errors.ts";
import { checkCommand } from "./commands/check.ts";
import { execCommand } from "./commands/exec.ts";
import { planCommand } from "./commands/plan.ts";
import { printError } from "./output.ts";

const VERSION = "0.1.0";

const commands = { exec: execCommand, plan: planCommand, check: checkCommand } as const;

const main = defineCommand({
  meta: { name: "isolate", version: VERSION, description: "run host processes in fresh Linux namespaces, with limits" },
  subCommands: commands,
});

async function cli(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${await renderUsage(main)}\n`);
    return first === undefined ? 125 : 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const sub = commands[first as keyof typeof commands];
  if (!sub) throw new SpecError(`unknown command ${first}`, "try isolate --help");
  const { result } = await runCommand(sub, { rawArgs: argv.slice(1) });
  return typeof result === "number" ? result : 0;
}

cli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = printError(e);
  },
);
