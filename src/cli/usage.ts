/**
 * Help text, rendered by citty from the flag table. citty is loaded only
 * here and for the commands that let it parse their arguments: it loads
 * node:util, milliseconds every `isolate exec` would pay for nothing.
 */
import type { ArgsDef, CommandDef } from "citty";
import { FLAGS } from "./flags.ts";

export function flagArgs(): ArgsDef {
  const args: ArgsDef = {};
  for (const f of FLAGS) {
    const key = f.name.replace(/^--/, "");
    args[key] =
      f.value === undefined
        ? { type: "boolean", description: f.description }
        : { type: "string", description: f.description, valueHint: f.value };
  }
  args.command = { type: "positional", description: "the command and its arguments (after --)", required: false };
  return args;
}

export async function usage(cmd: CommandDef<ArgsDef>): Promise<number> {
  const { renderUsage } = await import("citty");
  process.stdout.write(`${await renderUsage(cmd)}\n`);
  return 0;
}
