/**
 * `isolate completion bash|zsh|fish` prints a script (made by @bomb.sh/tab)
 * that asks `isolate complete -- WORDS...` at each TAB; that answer is
 * computed here from the command table and the flag table, so flags added
 * later complete without regenerating the script. Loaded only for these two
 * commands: nothing of it is on the `isolate exec` path.
 */
import { RootCommand } from "@bomb.sh/tab";
import { SpecError } from "../../errors.ts";
import { optionsOf } from "../help.ts";
import { stdout } from "../output.ts";
import { smallArgs } from "./args.ts";
import { COMMANDS } from "./info.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

/** A value that names a host path or a path inside: left to the shell's file completion. */
const PATHISH = /FILE|DIR|SRC|DST|PATH|TARGET/;

/** tab's directives (the last line of an answer, `:N`). */
const DEFAULT = 0; // nothing from us: the shell completes file names

async function tree(): Promise<RootCommand> {
  const root = new RootCommand();
  for (const c of COMMANDS) {
    const cmd = root.command(c.name, c.summary);
    for (const o of await optionsOf(c.name)) {
      const name = o.name.replace(/^--/, "");
      if (o.value === undefined) cmd.option(name, o.description);
      else
        cmd.option(name, o.description, (complete) => {
          for (const v of o.choices ?? o.value?.split("|").filter((w) => /^[a-z]+$/.test(w)) ?? []) complete(v, "");
        });
    }
    cmd.option("help", "print the command's help");
    if (c.args) {
      const words = c.args;
      cmd.argument("arg", (complete) => {
        for (const w of words) complete(w, "");
      });
    }
  }
  return root;
}

/**
 * Where the cursor is in `isolate exec|plan ...`: after `--` or the first
 * word that is not a flag (the command: file names), or at a path value.
 * Returns the directive to answer with alone, or undefined to let tab answer.
 */
async function fileContext(words: readonly string[]): Promise<number | undefined> {
  const [sub, ...rest] = words;
  if (sub !== "exec" && sub !== "plan") return undefined;
  const opts = new Map((await optionsOf(sub)).map((o) => [o.name, o]));
  const cur = rest.at(-1) ?? "";
  const before = rest.slice(0, -1);
  for (let i = 0; i < before.length; i++) {
    const w = before[i] ?? "";
    if (w === "--" || !w.startsWith("-")) return DEFAULT;
    const o = opts.get(w.split("=")[0] ?? "");
    if (o?.value !== undefined && !w.includes("=")) {
      if (i === before.length - 1) return PATHISH.test(o.value) ? DEFAULT : undefined;
      i++;
    }
  }
  const eq = cur.indexOf("=");
  if (cur.startsWith("--") && eq > 0) {
    const o = opts.get(cur.slice(0, eq));
    if (o?.value !== undefined && PATHISH.test(o.value)) return DEFAULT;
  }
  // A word that is not a flag starts the command.
  return cur.startsWith("-") ? undefined : DEFAULT;
}

/** `isolate complete -- WORDS...`: the completions of the last word, one a line, then `:DIRECTIVE`. */
export async function completeMain(argv: readonly string[]): Promise<number> {
  const words = argv[0] === "--" ? argv.slice(1) : [...argv];
  const direct = await fileContext(words);
  if (direct !== undefined) {
    stdout().write(`:${direct}\n`);
    return 0;
  }
  (await tree()).parse([...words]);
  return 0;
}

export async function completionMain(argv: readonly string[]): Promise<number> {
  const a = smallArgs("completion", argv, [], { max: 1, allowed: SHELLS });
  if (a.help) return (await import("../help.ts")).printHelp("completion");
  const shell = a.words[0];
  if (shell === undefined) throw new SpecError("completion: which shell?", "isolate completion bash|zsh|fish");
  const lines: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => lines.push(xs.join(" "));
  try {
    new RootCommand().setup("isolate", "isolate", shell);
  } finally {
    console.log = log;
  }
  let script = lines.join("\n");
  // Where isolate has nothing to offer (a path, the command), bash falls back to file names.
  if (shell === "bash") script = script.replace(/^complete -F (\S+) isolate$/m, "complete -o default -F $1 isolate");
  stdout().write(`${script}\n`);
  return 0;
}
