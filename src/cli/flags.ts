/**
 * The flags of `isolate exec` and `isolate plan`, one table: the ordered
 * scanner reads argv with it (repeated flags keep every value, in order),
 * and the help text is rendered from it.
 */

import type { SpecDefaults } from "../config/parse.ts";
import { NAMESPACES, type SpecInput } from "../config/schema.ts";
import { SpecError } from "../errors.ts";
import type { LimitsInput } from "../facilities/limits/fields.ts";
import { LIMIT_FLAGS } from "../facilities/limits/flags.ts";
import { NET_FLAGS } from "../facilities/net/flags.ts";
import { HARDENING_FLAGS } from "../facilities/privileges/flags.ts";
import { hostPath, parseMountFlag } from "../facilities/view/flags.ts";
import { readEnvFileFlag } from "./env-file.ts";
import { flagHint } from "./suggest.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };
export type Draft = Partial<Mutable<SpecInput>>;

/** Options of the CLI itself, not of the sandbox. */
export interface CliOptions {
  json: boolean;
  report: string | undefined;
  /** `--report-fd N` as given; checked before the run (src/cli/report.ts). */
  reportFd: string | undefined;
  /** `--profile FILE|NAME`, in order: loaded after the scan (src/cli/profile.ts). */
  profiles: string[];
  /** Named sandboxes (src/named/): --name, --detach, --join. */
  name?: string;
  detach?: boolean;
  join?: string[];
}

/** The commands that take the sandbox flags. */
export type SpecCommand = "exec" | "plan";

export interface FlagDef {
  readonly name: string;
  readonly value?: string;
  readonly description: string;
  /**
   * The Spec field it fills (a dotted path for nested ones), for error messages;
   * name, detach, join: the named-sandbox options of spawnNamed (src/named/).
   */
  readonly field?: keyof SpecInput | `limits.${keyof LimitsInput}` | `net.${string}` | "name" | "detach" | "join";
  /** The value it gives `field`, for a flag that takes none (--no-cwd: cwdMount "none"). */
  readonly sets?: string;
  /** Only this command takes it (the other rejects it: it would mean nothing there). */
  readonly only?: SpecCommand;
  /** The values it takes, for completion (when they are a fixed list). */
  readonly choices?: readonly string[];
  apply(draft: Draft, cli: CliOptions, value: string): void;
}

/**
 * Spec defaults of the CLI where they differ from the library's: the current
 * directory is shared read-write (the library shares it read-only). README: "Defaults".
 */
export const CLI_SPEC_DEFAULTS: SpecDefaults = { cwdMount: "rw" };

const list = (v: string) => v.split(",").map((s) => s.trim());

export const FLAGS: readonly FlagDef[] = [
  {
    name: "--share",
    value: "NS[,NS...]",
    field: "share",
    choices: NAMESPACES,
    description: "keep the host's namespace(s): pid, mount, uts, ipc, net, cgroup, user, time",
    apply: (d, _c, v) => {
      d.share = [...(d.share ?? []), ...(list(v) as never[])];
    },
  },
  {
    name: "--unshare",
    value: "NS[,NS...]",
    field: "unshare",
    choices: NAMESPACES,
    description: "also create these namespaces (e.g. time, user)",
    apply: (d, _c, v) => {
      d.unshare = [...(d.unshare ?? []), ...(list(v) as never[])];
    },
  },
  {
    name: "--hostname",
    value: "NAME",
    field: "hostname",
    description: "hostname inside the sandbox",
    apply: (d, _c, v) => {
      d.hostname = v;
    },
  },
  {
    name: "--env",
    value: "K=V|K",
    field: "env",
    description: "set K to V, or pass the caller's K through (repeatable, in order)",
    apply: (d, _c, v) => {
      const eq = v.indexOf("=");
      const name = eq < 0 ? v : v.slice(0, eq);
      if (name === "" || name.startsWith("-")) {
        throw new SpecError(`--env ${v}: not a variable name`, "use --env K=V, or --env K to pass the caller's K");
      }
      const entry = eq < 0 ? { name: v } : { name: v.slice(0, eq), value: v.slice(eq + 1) };
      d.env = [...(Array.isArray(d.env) ? d.env : []), entry];
    },
  },
  {
    name: "--inherit-env",
    field: "inheritEnv",
    description: "keep the caller's whole environment (default: PATH, HOME, TERM, LANG, LC_*, TZ, USER, LOGNAME)",
    apply: (d) => {
      d.inheritEnv = true;
    },
  },
  {
    name: "--chdir",
    value: "DIR",
    field: "cwd",
    description: "working directory of the command (default: the current one)",
    apply: (d, _c, v) => {
      d.cwd = v;
    },
  },
  {
    name: "--kill-after",
    value: "DURATION",
    field: "killAfter",
    description: "after forwarding SIGINT/SIGTERM/SIGHUP, kill everything if still running (default 10s)",
    apply: (d, _c, v) => {
      d.killAfter = v;
    },
  },
  {
    name: "--pty",
    field: "pty",
    description:
      "run the command on a new terminal of the sandbox's own (its controlling terminal, stdin, stdout and stderr), relayed to the caller's, which is in raw mode meanwhile",
    apply: (d) => {
      d.pty = true;
    },
  },
  ...LIMIT_FLAGS,
  ...HARDENING_FLAGS,
  ...NET_FLAGS,
  ...(
    [
      [
        "--ro-bind",
        "SRC[:DST]",
        "bind a host path read-only at DST (default: the same path); '\\' escapes ':' and spaces",
      ],
      ["--bind", "SRC[:DST]", "bind a host path read-write"],
      ["--dev-bind", "SRC[:DST]", "bind a host path read-write, device nodes usable"],
      ["--tmpfs", "DST[:SIZE]", "a private tmpfs at DST"],
      [
        "--overlay",
        "DST[:UPPER[:WORK]]",
        "a writable view of DST; changes vanish, or go to the host dir UPPER (overlayfs work dir: WORK, else one made beside UPPER for the run)",
      ],
      ["--mask", "PATH", "hide PATH (an empty directory, or /dev/null for a file)"],
      ["--symlink", "TARGET:DST", "create the symlink DST -> TARGET (never on the host)"],
      ["--dir", "DST[:MODE]", "create the directory DST (never on the host)"],
    ] as const
  ).map(
    ([name, value, description]): FlagDef => ({
      name,
      value,
      field: "mounts",
      description: `${description} (repeatable, in order)`,
      apply: (d, _c, v) => {
        d.mounts = [...(d.mounts ?? []), parseMountFlag(name, v)];
      },
    }),
  ),
  {
    name: "--unmask",
    value: "PATH",
    field: "unmask",
    description:
      "keep a masked credential store visible: an entry of the list (~/.ssh) or a path it stands for (repeatable; the list: README)",
    apply: (d, _c, v) => {
      d.unmask = [...(d.unmask ?? []), v];
    },
  },
  {
    name: "--rootfs",
    value: "DIR",
    field: "rootfs",
    description: "use DIR instead of the host's / as the read-only root (still fresh /proc, /dev, /tmp)",
    apply: (d, _c, v) => {
      d.rootfs = hostPath(v);
    },
  },
  {
    name: "--ro-cwd",
    field: "cwdMount",
    sets: "ro",
    description: "share the current directory read-only (the CLI's default: read-write)",
    apply: (d) => {
      d.cwdMount = "ro";
    },
  },
  {
    name: "--no-cwd",
    field: "cwdMount",
    sets: "none",
    description: "do not share the current directory",
    apply: (d) => {
      d.cwdMount = "none";
    },
  },
  {
    name: "--env-file",
    value: "FILE",
    field: "env",
    description:
      "read K=V and K lines from FILE (docker's format: '#' comments, no quotes processing), in order with --env",
    apply: (d, _c, v) => {
      d.env = [...(Array.isArray(d.env) ? d.env : []), ...readEnvFileFlag(v)];
    },
  },
  {
    name: "--profile",
    value: "FILE|NAME",
    description:
      "start from the Spec fields in a TOML or JSON file; NAME alone: $XDG_CONFIG_HOME/isolate/NAME.toml, then /etc/isolate/NAME.toml (flags add lists, override the rest)",
    apply: (_d, c, v) => {
      c.profiles.push(v);
    },
  },
  {
    name: "--name",
    value: "NAME",
    field: "name",
    only: "exec",
    description: "a named sandbox: listed by isolate ps, joinable with isolate enter NAME while it runs",
    apply: (_d, c, v) => {
      c.name = v;
    },
  },
  {
    name: "--detach",
    field: "detach",
    only: "exec",
    description:
      "with --name: return at once (the name on stdout); a monitor keeps the sandbox, its output goes to isolate logs NAME",
    apply: (_d, c) => {
      c.detach = true;
    },
  },
  {
    name: "--join",
    value: "NAME:NS[,NS...]",
    field: "join",
    only: "exec",
    description:
      "share these namespaces (net, ipc, uts, user) of the running named sandbox NAME; user comes along when NAME has its own",
    apply: (_d, c, v) => {
      c.join = [...(c.join ?? []), v];
    },
  },
  {
    name: "--json",
    only: "exec",
    description: "write the run report as JSON to stderr when done (shared with the command: see --report-fd)",
    apply: (_d, c) => {
      c.json = true;
    },
  },
  {
    name: "--report",
    value: "FILE",
    only: "exec",
    description: "write the run report as JSON to FILE (opened before the run; no symlink is followed)",
    apply: (_d, c, v) => {
      c.report = v;
    },
  },
  {
    name: "--report-fd",
    value: "N",
    only: "exec",
    description: "write the run report as JSON to inherited descriptor N (>= 3; the command never sees it)",
    apply: (_d, c, v) => {
      c.reportFd = v;
    },
  },
];

/** `isolate plan --json`: the plan, on stdout (the plan is what plan prints). */
const PLAN_JSON: FlagDef = {
  name: "--json",
  only: "plan",
  description: "print the normalized Spec and the ops as JSON on stdout",
  apply: (_d, c) => {
    c.json = true;
  },
};

/** The flags `command` takes, in table order (help, man page and completion list them so). */
export function flagsFor(command: SpecCommand): FlagDef[] {
  const out = FLAGS.filter((f) => f.only === undefined || f.only === command);
  if (command === "plan") out.push(PLAN_JSON);
  return out;
}

/**
 * The flag to name in a message about a Spec field (a dotted path: its longest
 * known prefix). A mount entry is named by its type: mounts.bind is --bind.
 */
export function flagOf(field: string): string {
  return flagText(field, undefined);
}

/** A Spec field with its value in a message, as flags: `--userns host`, `--no-cwd` (cwdMount "none"). */
export function flagText(field: string, value: string | undefined): string {
  const fixed = value !== undefined && FLAGS.find((f) => f.field === field && f.sets === value);
  if (fixed) return fixed.name;
  const flag = flagName(field);
  return value === undefined ? flag : `${flag} ${value}`;
}

function flagName(field: string): string {
  const mount = /^mounts\.([a-z-]+)$/.exec(field)?.[1];
  const byType = mount && FLAGS.find((f) => f.field === "mounts" && f.name === `--${mount}`);
  if (byType) return byType.name;
  const parts = field.split(".");
  for (let n = parts.length; n > 0; n--) {
    const key = parts.slice(0, n).join(".");
    const flag = FLAGS.find((f) => f.field === key);
    if (flag) return flag.name;
  }
  return field;
}

export interface Scanned {
  readonly draft: Draft;
  readonly cli: CliOptions;
  readonly help: boolean;
}

/** An unknown flag: one line naming it, with the closest flag or how to say another tool's flag here. */
export function unknownFlag(command: string, name: string, next: string | undefined, known: Iterable<string>): never {
  const names = new Set(known);
  const h = flagHint(name, next, names);
  const shown = h?.takesValue && next !== undefined && !name.includes("=") ? `${name} ${next}` : name;
  throw new SpecError(`unknown flag ${shown}`, h?.hint ?? `see isolate ${command} --help`);
}

const BINDS = new Set(["--bind", "--ro-bind", "--dev-bind"]);
/** A ':' that is not escaped: the value already is SRC:DST. */
const hasColon = (v: string) => /(^|[^\\])(\\\\)*:/.test(v);

/**
 * bwrap spells a bind `--ro-bind SRC DST`. Here DST would become the command:
 * say so when the "command" cannot be one (the same path again, a host
 * directory, or followed by isolate flags).
 */
function twoWordBind(flag: string, value: string, command: readonly string[], known: ReadonlySet<string>): void {
  const [first, second] = command;
  if (first === undefined || !first.startsWith("/")) return;
  let looksLikeDst = first === value || (second !== undefined && known.has(second.split("=")[0] ?? ""));
  if (!looksLikeDst) {
    try {
      looksLikeDst = (require("node:fs") as typeof import("node:fs")).statSync(first).isDirectory();
    } catch {}
  }
  if (looksLikeDst) {
    throw new SpecError(
      `${flag} ${value} ${first}: ${flag} takes SRC:DST as one word`,
      `use ${flag} ${value}:${first}`,
    );
  }
}

/**
 * Flags up to `--` or the first word that is not a flag; the rest is the
 * command, untouched (`isolate exec -- --ro-bind` runs "--ro-bind").
 */
export function scanFlags(argv: readonly string[], cmd: SpecCommand = "exec"): Scanned {
  const flags = new Map(flagsFor(cmd).map((f) => [f.name, f]));
  const known = new Set(flags.keys());
  const draft: Draft = {};
  const cli: CliOptions = { json: false, report: undefined, reportFd: undefined, profiles: [] };
  let help = false;
  let lastBind: { flag: string; value: string } | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    lastBind = undefined;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const def = flags.get(name);
    if (!def) {
      const other = FLAGS.find((f) => f.name === name && f.only !== undefined && f.only !== cmd);
      if (other) {
        throw new SpecError(
          `${cmd} takes no ${name}`,
          `a flag of isolate ${other.only}: ${cmd} runs nothing and writes no report`,
        );
      }
      unknownFlag(cmd, name, eq > 0 ? arg.slice(eq + 1) : argv[i + 1], known);
    }
    if (def.value === undefined) {
      if (eq > 0) throw new SpecError(`${name} takes no value`);
      def.apply(draft, cli, "");
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
      // `--env -- cmd`, `--hostname --memory 1G`: the value was forgotten.
      if (value === "--" || (value !== undefined && known.has(value.split("=")[0] ?? ""))) {
        throw new SpecError(`${name} needs a value (${def.value}) before ${value}`);
      }
      if (name === "--symlink" && value !== undefined && !hasColon(value) && argv[i + 1]?.startsWith("/")) {
        throw new SpecError(
          `--symlink ${value} ${argv[i + 1]}: --symlink takes TARGET:DST as one word`,
          `use --symlink ${value}:${argv[i + 1]}`,
        );
      }
      if (value !== undefined && BINDS.has(name) && !hasColon(value)) lastBind = { flag: name, value };
    }
    if (value === undefined) throw new SpecError(`${name} needs a value (${def.value})`);
    def.apply(draft, cli, value);
  }
  const command = argv.slice(i);
  draft.command = command;
  if (lastBind && i > 0 && argv[i - 1] !== "--") twoWordBind(lastBind.flag, lastBind.value, command, known);
  return { draft, cli, help };
}
