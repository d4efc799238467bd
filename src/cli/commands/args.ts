/**
 * The small commands' arguments (check, clean, completion, man): citty parses
 * them (boolean flags and words: none repeats, so its last-value rule is
 * harmless here); anything it did not expect is 125 naming the closest word.
 */
import { type ArgsDef, parseArgs } from "citty";
import { SpecError } from "../../errors.ts";
import { closest } from "../suggest.ts";

/**
 * Parse `argv`: `--help`/`-h`, the boolean flags in `known` (spelled `--name`)
 * and at most `words.max` positional words (from `words.allowed` when given).
 */
export function smallArgs(
  command: string,
  argv: readonly string[],
  known: readonly string[],
  words: { max: number; allowed?: readonly string[] } = { max: 0 },
): { help: boolean; flags: Set<string>; words: string[] } {
  const def: ArgsDef = { help: { type: "boolean", alias: "h" } };
  for (const flag of known) def[flag.slice(2)] = { type: "boolean" };
  const parsed = parseArgs([...argv], def);
  const hint = (word: string, among: readonly string[]) => {
    const near = closest(word, among);
    return near ? `did you mean ${near}?` : `see isolate ${command} --help`;
  };
  // citty keeps what it does not know as a key of its own: each flag word is checked as written.
  for (const a of argv) {
    if (a === "--") break;
    const name = a.split("=")[0] ?? a;
    if (a.startsWith("-") && name !== "--help" && name !== "-h" && !known.includes(name)) {
      throw new SpecError(`${command}: unknown flag ${a}`, hint(name, [...known, "--help"]));
    }
    if (a.startsWith("--") && a.includes("=")) throw new SpecError(`${command}: ${name} takes no value`);
  }
  const positional = parsed._.map(String);
  for (const [i, w] of positional.entries()) {
    if (i >= words.max || (words.allowed !== undefined && !words.allowed.includes(w))) {
      throw new SpecError(`${command}: unexpected argument ${w}`, hint(w, words.allowed ?? []));
    }
  }
  const flags = new Set(known.filter((f) => parsed[f.slice(2)] === true));
  return { help: parsed.help === true, flags, words: positional };
}
