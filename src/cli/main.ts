#!/usr/bin/env bun
/** The isolate CLI: parse -> Spec -> library -> print. */
import { SpecError } from "../errors.ts";
import { rawArgs } from "../host/bytes.ts";
import { printError, quietOnBrokenPipe, stdout } from "./output.ts";
import { VERSION } from "./version.ts";

type Main = (argv: readonly string[]) => number | Promise<number>;

// Each command is loaded only when it runs: a module graph evaluated for
// nothing is startup time every `isolate exec` pays. exec and plan scan their
// argv by hand; no argument parser, help, completion or man code is loaded
// on their path.
const commands: Record<string, () => Promise<Main>> = {
  exec: async () => (await import("./commands/exec.ts")).execMain,
  plan: async () => (await import("./commands/plan.ts")).planMain,
  check: async () => (await import("./commands/check.ts")).checkMain,
  clean: async () => (await import("./commands/clean.ts")).cleanMain,
  completion: async () => (await import("./commands/completion.ts")).completionMain,
  man: async () => (await import("./commands/man.ts")).manMain,
  // Asked by the completion scripts at each TAB (not listed in help).
  complete: async () => (await import("./commands/completion.ts")).completeMain,
  // Named sandboxes (src/named/).
  ps: async () => (await import("./commands/named.ts")).psMain,
  logs: async () => (await import("./commands/named.ts")).logsMain,
  stop: async () => (await import("./commands/named.ts")).stopMain,
  wait: async () => (await import("./commands/named.ts")).waitMain,
  rm: async () => (await import("./commands/named.ts")).rmMain,
  stats: async () => (await import("./commands/named.ts")).statsMain,
  enter: async () => (await import("./commands/named.ts")).enterMain,
  // The detached sandbox's monitor: isolate runs it itself (not listed in help).
  __monitor: async () => (await import("./commands/named-exec.ts")).cliMonitorMain,
};

/** Other tools' words for a command. */
const ALIASES: Record<string, string> = { run: "exec", "check-host": "check", gc: "clean", prune: "clean" };

async function unknownCommand(word: string): Promise<never> {
  if (word.startsWith("-")) {
    throw new SpecError(
      `unknown flag ${word} before the command`,
      `flags come after the command: isolate exec ${word} ... -- CMD`,
    );
  }
  const { closest } = await import("./suggest.ts");
  const near = Object.hasOwn(ALIASES, word) ? ALIASES[word] : closest(word, Object.keys(commands));
  throw new SpecError(`unknown command ${word}`, near ? `did you mean isolate ${near}?` : "try isolate --help");
}

async function cli(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const help = await import("./help.ts");
    const topic = first === "help" ? argv[1] : undefined;
    if (topic !== undefined && Object.hasOwn(commands, topic) && topic !== "complete" && !topic.startsWith("__"))
      return help.printHelp(topic);
    stdout().write(help.renderMainHelp(VERSION, help.stdoutStyle()));
    return first === undefined ? 125 : 0;
  }
  if (first === "--version" || first === "-v") {
    // Not stdout(): its first use builds a Node stream, about 3x a hello-world's whole start.
    await Bun.write(Bun.stdout, `${VERSION}\n`);
    return 0;
  }
  const load = Object.hasOwn(commands, first) ? commands[first] : undefined;
  if (!load) return unknownCommand(first);
  return (await load())(argv.slice(1));
}

quietOnBrokenPipe();
// Byte for byte: Bun's process.argv replaces bytes that are not UTF-8.
cli(rawArgs()).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = printError(e);
  },
);
