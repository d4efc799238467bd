#!/usr/bin/env bun
/** The isolate CLI: parse -> Spec -> library -> print. */
import { type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { SpecError } from "../errors.ts";
import { printError } from "./output.ts";

const VERSION = "0.1.0";

// Each command is loaded only when it runs: a module graph evaluated for
// nothing is startup time every `isolate exec` pays.
const commands: Record<string, () => Promise<CommandDef>> = {
  exec: async () => (await import("./commands/exec.ts")).execCommand as CommandDef,
  plan: async () => (await import("./commands/plan.ts")).planCommand as CommandDef,
  check: async () => (await import("./commands/check.ts")).checkCommand as CommandDef,
  clean: async () => (await import("./commands/clean.ts")).cleanCommand as CommandDef,
};

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
  const load = Object.hasOwn(commands, first) ? commands[first] : undefined;
  if (!load) throw new SpecError(`unknown command ${first}`, "try isolate --help");
  const { result } = await runCommand(await load(), { rawArgs: argv.slice(1) });
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
