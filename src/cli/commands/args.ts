/** The small commands' arguments (check, clean, completion, man): a few known words, anything else is 125. */
import { SpecError } from "../../errors.ts";
import { closest } from "../suggest.ts";

/**
 * Scan `argv` for `--help`/`-h` and the flags in `known`; anything else is an
 * error naming the closest known word. Returns the flags seen and the
 * positional words (at most `maxWords`).
 */
export function smallArgs(
  command: string,
  argv: readonly string[],
  known: readonly string[],
  words: { max: number; allowed?: readonly string[] } = { max: 0 },
): { help: boolean; flags: Set<string>; words: string[] } {
  const flags = new Set<string>();
  const positional: string[] = [];
  let help = false;
  for (const a of argv) {
    if (a === "--help" || a === "-h") help = true;
    else if (known.includes(a)) flags.add(a);
    else if (a.startsWith("-")) {
      const near = closest(a.split("=")[0] ?? a, [...known, "--help"]);
      throw new SpecError(
        `${command}: unknown flag ${a}`,
        near ? `did you mean ${near}?` : `see isolate ${command} --help`,
      );
    } else if (positional.length < words.max && (words.allowed === undefined || words.allowed.includes(a)))
      positional.push(a);
    else {
      const near = words.allowed ? closest(a, words.allowed) : undefined;
      throw new SpecError(
        `${command}: unexpected argument ${a}`,
        near ? `did you mean ${near}?` : `see isolate ${command} --help`,
      );
    }
  }
  return { help, flags, words: positional };
}
