/**
 * `--help`, rendered from the command table (commands/info.ts) and the flag
 * table (flags.ts): wrapped to the terminal's width (80 when not a
 * terminal), with EXAMPLES and EXIT STATUS; bold and colour only on a
 * terminal, never with NO_COLOR or TERM=dumb. Loaded only for help.
 */
import {
  CHECK_OPTIONS,
  CLEAN_OPTIONS,
  COMMANDS,
  type CommandInfo,
  NAMED_OPTIONS,
  type OptionDoc,
  SUMMARY,
} from "./commands/info.ts";
import { stdout } from "./output.ts";

export interface Style {
  readonly width: number;
  readonly color: boolean;
}

/** How stdout looks: a terminal's width and colour, else 80 columns of plain text. */
export function stdoutStyle(env: NodeJS.ProcessEnv = process.env): Style {
  const tty = stdout().isTTY === true;
  const cols = tty ? stdout().columns : undefined;
  const width = cols !== undefined && cols >= 20 ? Math.min(cols, 200) : 80;
  const color = tty && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb";
  return { width, color };
}

/** A word longer than a line, cut after its slashes (else anywhere) into pieces that fit. */
function pieces(word: string, width: number): string[] {
  if (word.length <= width) return [word];
  const out: string[] = [];
  let rest = word;
  while (rest.length > width) {
    const slash = rest.lastIndexOf("/", width - 1);
    const cut = slash > 0 ? slash + 1 : width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  return [...out, rest];
}

/** Words of `text` in lines of at most `width` columns (a longer word is cut after a '/'). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = "";
  const words = text.split(/\s+/).filter((w) => w !== "");
  for (const word of words.flatMap((w) => pieces(w, Math.max(width, 10)))) {
    if (cur === "") cur = word;
    else if (cur.length + 1 + word.length <= width) cur += ` ${word}`;
    else {
      lines.push(cur);
      cur = word;
    }
  }
  if (cur !== "") lines.push(cur);
  return lines.length > 0 ? lines : [""];
}

/** A shell command in lines of at most `width` columns, continued with ` \\` as a shell reads it. */
export function wrapCommand(cmd: string, width: number): string[] {
  const lines = wrap(cmd, width - 2);
  return lines.map((l, i) => (i < lines.length - 1 ? `${l} \\` : l)).map((l, i) => (i > 0 ? `  ${l}` : l));
}

export async function optionsOf(name: string): Promise<readonly OptionDoc[]> {
  if (name === "exec" || name === "plan") return (await import("./flags.ts")).flagsFor(name);
  if (name === "check") return CHECK_OPTIONS;
  if (name === "clean") return CLEAN_OPTIONS;
  if (Object.hasOwn(NAMED_OPTIONS, name)) return NAMED_OPTIONS[name] ?? [];
  return [];
}

const HELP: OptionDoc = { name: "--help", description: "print this help" };

function painter(s: Style) {
  const sgr = (code: string) => (t: string) => (s.color ? `\x1b[${code}m${t}\x1b[0m` : t);
  return { head: sgr("1"), flag: sgr("36"), cmd: sgr("1") };
}

/** Two columns: a label, and its text wrapped beside it (or below it when the label is long). */
function table(rows: readonly (readonly [string, string])[], s: Style, paint: (t: string) => string): string[] {
  const narrow = s.width < 60;
  const col = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 4);
  const out: string[] = [];
  for (const [label, text] of rows) {
    if (narrow || label.length + 4 > col) {
      out.push(`  ${paint(label)}`);
      for (const l of wrap(text, s.width - 8)) out.push(`${" ".repeat(8)}${l}`);
      continue;
    }
    const body = wrap(text, s.width - col);
    out.push(`  ${paint(label)}${" ".repeat(col - 2 - label.length)}${body[0]}`);
    for (const l of body.slice(1)) out.push(`${" ".repeat(col)}${l}`);
  }
  return out;
}

export function renderCommandHelp(info: CommandInfo, options: readonly OptionDoc[], s: Style): string {
  const p = painter(s);
  const out: string[] = [];
  out.push(...wrap(`isolate ${info.name}: ${info.summary}`, s.width), "");
  out.push(p.head("USAGE"), `  isolate ${info.synopsis}`, "");
  for (const para of info.description) out.push(...wrap(para, s.width - 2).map((l) => `  ${l}`), "");
  const flags = [...options, HELP];
  out.push(p.head("FLAGS"));
  out.push(
    ...table(
      flags.map((f) => [f.value ? `${f.name} ${f.value}` : f.name, f.description]),
      s,
      p.flag,
    ),
    "",
  );
  out.push(p.head("EXAMPLES"));
  for (const [cmd, what] of info.examples) {
    out.push(...wrap(what, s.width - 2).map((l) => `  ${l}`));
    out.push(...wrapCommand(`$ ${cmd}`, s.width - 4).map((l) => `    ${p.cmd(l)}`));
  }
  out.push("", p.head("EXIT STATUS"), ...table(info.exit, s, (t) => t), "");
  out.push(...wrap("More: isolate man, and the README.", s.width));
  return `${out.join("\n")}\n`;
}

export function renderMainHelp(version: string, s: Style): string {
  const p = painter(s);
  const out = [...wrap(`isolate ${version}: ${SUMMARY}`, s.width), ""];
  out.push(p.head("USAGE"), "  isolate COMMAND [flags] [--] [CMD [ARG...]]", "");
  out.push(
    p.head("COMMANDS"),
    ...table(
      COMMANDS.map((c) => [c.name, c.summary]),
      s,
      p.flag,
    ),
    "",
  );
  out.push(
    p.head("FLAGS"),
    ...table(
      [
        ["--help", "print this help (isolate COMMAND --help: the command's)"],
        ["--version", "print the version"],
      ],
      s,
      p.flag,
    ),
    "",
  );
  out.push(p.head("EXAMPLES"));
  for (const [cmd, what] of [
    ["isolate exec -- make test", "run a build in a sandbox"],
    ["isolate exec --memory 1G --timeout 1m -- ./job", "with limits"],
    ["isolate check", "what this host can do"],
  ]) {
    out.push(`  ${what}`, `    ${p.cmd(`$ ${cmd}`)}`);
  }
  out.push("", p.head("EXIT STATUS"));
  out.push(
    ...table(
      [
        ["125", "isolate's own error"],
        ["other", "the command's (see isolate exec --help)"],
      ],
      s,
      (t) => t,
    ),
    "",
  );
  return `${out.join("\n")}\n`;
}

/** Print `isolate NAME --help`; returns the exit status (0). */
export async function printHelp(name: string): Promise<number> {
  const info = COMMANDS.find((c) => c.name === name);
  if (!info) throw new Error(`no help for ${name}`);
  stdout().write(renderCommandHelp(info, await optionsOf(name), stdoutStyle()));
  return 0;
}
