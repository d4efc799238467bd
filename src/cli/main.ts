#!/usr/bin/env bun
/** The isolate CLI: parse -> Spec -> library -> print. */
import type { CommandDef, ParsedArgs } from "citty";
import { SpecError } from "../errors.ts";
import { rawArgs } from "../host/bytes.ts";
import { printError } from "./output.ts";

const VERSION = "0.1.0";

interface Entry {
  load(): Promise<CommandDef>;
  /** Scans its own argv; else citty parses the arguments first. */
  raw: boolean;
}

// Each command is loaded only when it runs: a module graph evaluated for
// nothing is startup time every `isolate exec` pays.
const commands: Record<string, Entry> = {
  exec: { load: async () => (await import("./commands/exec.ts")).execCommand, raw: true },
  plan: { load: async () => (await import("./commands/plan.ts")).planCommand, raw: true },
  check: { load: async () => (await import("./commands/check.ts")).checkCommand as CommandDef, raw: false },
  clean: { load: async () => (await import("./commands/clean.ts")).cleanCommand as CommandDef, raw: false },
  // Named sandboxes (src/named/).
  ps: { load: async () => (await import("./commands/named.ts")).psCommand as CommandDef, raw: false },
  logs: { load: async () => (await import("./commands/named.ts")).logsCommand as CommandDef, raw: false },
  stop: { load: async () => (await import("./commands/named.ts")).stopCommand as CommandDef, raw: false },
  wait: { load: async () => (await import("./commands/named.ts")).waitCommand as CommandDef, raw: false },
  rm: { load: async () => (await import("./commands/named.ts")).rmCommand as CommandDef, raw: false },
  stats: { load: async () => (await import("./commands/named.ts")).statsCommand as CommandDef, raw: false },
  enter: { load: async () => (await import("./commands/named.ts")).enterCommand, raw: true },
  // The detached sandbox's monitor: isolate runs it itself, never listed.
  __monitor: { load: async () => (await import("./commands/named.ts")).monitorCommand, raw: true },
};

async function mainUsage(): Promise<string> {
  const { renderUsage } = await import("citty");
  const subCommands = Object.fromEntries(
    Object.entries(commands)
      .filter(([name]) => !name.startsWith("__"))
      .map(([name, e]) => [name, e.load]),
  );
  return renderUsage({
    meta: {
      name: "isolate",
      version: VERSION,
      description: "run host processes in fresh Linux namespaces, with limits",
    },
    subCommands,
  });
}

async function cli(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${await mainUsage()}\n`);
    return first === undefined ? 125 : 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = Object.hasOwn(commands, first) ? commands[first] : undefined;
  if (!entry) throw new SpecError(`unknown command ${first}`, "try isolate --help");
  const cmd = await entry.load();
  const rawArgs = argv.slice(1);
  let result: unknown;
  // citty's runCommand does not answer --help itself (named sandboxes' commands take a required NAME).
  if (!entry.raw && (rawArgs.includes("--help") || rawArgs.includes("-h"))) {
    process.stdout.write(`${await (await import("citty")).renderUsage(cmd)}\n`);
    return 0;
  }
  if (entry.raw) result = await cmd.run?.({ rawArgs, args: { _: [] } as unknown as ParsedArgs, cmd });
  else result = (await (await import("citty")).runCommand(cmd, { rawArgs })).result;
  return typeof result === "number" ? result : 0;
}

// Byte for byte: Bun's process.argv replaces bytes that are not UTF-8.
cli(rawArgs()).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = printError(e);
  },
);
