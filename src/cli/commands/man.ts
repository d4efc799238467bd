/**
 * isolate(1) in roff, rendered from the command table (info.ts) and the flag
 * table (flags.ts), as --help is. `isolate man` prints it; docs/isolate.1 is
 * the same text (scripts/gen-man.ts writes it; a test checks it is current).
 */
import { flagsFor } from "../flags.ts";
import { stdout } from "../output.ts";
import { VERSION } from "../version.ts";
import { smallArgs } from "./args.ts";
import { CHECK_OPTIONS, CLEAN_OPTIONS, COMMANDS, NAMED_OPTIONS, type OptionDoc, SUMMARY } from "./info.ts";

/** Text as roff: backslashes and hyphens escaped, no line starting with a control character. */
function esc(s: string): string {
  const t = s.replace(/\\/g, "\\e").replace(/-/g, "\\-");
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

const bold = (s: string) => `\\fB${esc(s)}\\fR`;

function options(opts: readonly OptionDoc[]): string[] {
  const out: string[] = [];
  for (const o of opts) {
    out.push(".TP", o.value ? `${bold(o.name)} \\fI${esc(o.value)}\\fR` : bold(o.name), esc(o.description));
  }
  return out;
}

const PROFILES = [
  '\\-\\-profile FILE reads Spec fields from a TOML file (a .json file: JSON). The keys are the Spec\'s, as a library caller writes them: hostname, share, inheritEnv, cwdMount, rootfs, [limits] (memory, cpus, pids, timeout, rlimits, ...), [[mounts]] (type, src, dst, ...), [[env]] (name, value) or an [env] table of NAME = "value", capAdd, seccomp, landlock, and command. Paths in a profile are absolute; durations and sizes are strings ("10s", "512M"; a bare number is milliseconds or bytes).',
  "\\-\\-profile NAME (no slash, no dot) looks for $XDG_CONFIG_HOME/isolate/NAME.toml (default ~/.config/isolate), then /etc/isolate/NAME.toml. The current directory is never searched, and no profile is ever loaded unless named. The file is opened without following a symbolic link in its last component, and must be a regular file.",
  "Merging: profiles apply in the order given, then the command line. Lists append (env, mounts, share, unshare, capAdd, unmask, limits.rlimits, ...); limits merge key by key; every other field, and a non-empty command, is replaced. isolate plan \\-\\-profile FILE prints the merged result. Errors name the file, the line (TOML), the field path and the flag that sets the same field.",
];

const ENV_FILE = [
  "\\-\\-env\\-file FILE reads docker's env file format: each line is trimmed of leading whitespace; empty lines and lines starting with # are skipped; KEY=VALUE sets KEY to everything after the first =, verbatim (no quotes removed, nothing expanded, trailing spaces kept); KEY alone passes the caller's KEY through, if set. KEY must not be empty or contain a space or a tab. Entries apply in command\\-line order with \\-\\-env: later ones win. The file is opened as a profile is. Errors name the file and the line.",
];

export async function renderMan(): Promise<string> {
  const exec = COMMANDS.find((c) => c.name === "exec");
  const out: string[] = [
    `.TH ISOLATE 1 "" "isolate ${VERSION}" "User Commands"`,
    ".SH NAME",
    `isolate \\- ${esc(SUMMARY)}`,
    ".SH SYNOPSIS",
  ];
  for (const c of COMMANDS) out.push(".br", `${bold("isolate")} ${esc(c.synopsis)}`);
  out.push(".SH DESCRIPTION");
  for (const p of exec?.description ?? []) out.push(".PP", esc(p));
  out.push(".SH COMMANDS");
  for (const c of COMMANDS) {
    out.push(".SS", `${bold(`isolate ${c.name}`)}`, esc(c.summary));
    if (c.name !== "exec") for (const p of c.description) out.push(".PP", esc(p));
    const opts =
      c.name === "exec" || c.name === "plan"
        ? flagsFor(c.name)
        : c.name === "check"
          ? CHECK_OPTIONS
          : c.name === "clean"
            ? CLEAN_OPTIONS
            : (NAMED_OPTIONS[c.name] ?? []);
    if (c.name === "plan") {
      out.push(".PP", "Takes the flags of exec but \\-\\-report and \\-\\-report\\-fd; its own:");
      out.push(...options(opts.filter((o) => o.name === "--json")));
    } else out.push(...options(opts));
  }
  out.push(".SH PROFILES");
  for (const p of PROFILES) out.push(".PP", p);
  out.push(".SH ENV FILES");
  for (const p of ENV_FILE) out.push(".PP", p);
  out.push(".SH EXIT STATUS", ".PP", "isolate exec exits with the command's status:");
  for (const [code, meaning] of exec?.exit ?? []) out.push(".TP", bold(code), esc(meaning));
  for (const c of COMMANDS.filter((c) => c.name !== "exec")) {
    out.push(".PP", `isolate ${c.name}:`);
    for (const [code, meaning] of c.exit) out.push(".TP", bold(code), esc(meaning));
  }
  out.push(
    ".SH ENVIRONMENT",
    ".TP",
    bold("NO_COLOR"),
    "when set and not empty, help is never coloured (it is only on a terminal anyway).",
    ".TP",
    bold("XDG_CONFIG_HOME"),
    "where \\-\\-profile NAME looks first (default ~/.config).",
    ".TP",
    bold("ISOLATE_DEBUG"),
    "print the stack of an internal error.",
    ".SH FILES",
    ".TP",
    bold("$XDG_CONFIG_HOME/isolate/NAME.toml, /etc/isolate/NAME.toml"),
    "profiles named by \\-\\-profile NAME; read only when named.",
    ".SH EXAMPLES",
  );
  for (const c of COMMANDS) {
    for (const [cmd, what] of c.examples) out.push(".PP", esc(what), ".RS", ".nf", esc(`$ ${cmd}`), ".fi", ".RE");
  }
  out.push(".SH SEE ALSO", "bwrap(1), systemd\\-run(1), unshare(1), namespaces(7), cgroups(7), landlock(7)");
  return `${out.join("\n")}\n`;
}

export async function manMain(argv: readonly string[]): Promise<number> {
  const a = smallArgs("man", argv, []);
  if (a.help) return (await import("../help.ts")).printHelp("man");
  stdout().write(await renderMan());
  return 0;
}
