/**
 * The flags of `isolate exec` and `isolate plan`, one table: the ordered
 * scanner reads argv with it (repeated flags keep every value, in order),
 * and the help text is rendered from it.
 */
import { SpecError } from "../errors.ts";
import type { LimitsInput } from "../spec/limits.ts";
import type { SpecInput } from "../spec/schema.ts";
import { HARDENING_FLAGS } from "./hardening-flags.ts";
import { LIMIT_FLAGS } from "./limit-flags.ts";
import { hostPath, parseMountFlag } from "./mount-flags.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };
export type Draft = Partial<Mutable<SpecInput>>;

/** Options of the CLI itself, not of the sandbox. */
export interface CliOptions {
  json: boolean;
  report: string | undefined;
  /** `--report-fd N` as given; checked before the run (src/cli/report.ts). */
  reportFd: string | undefined;
  /** Named sandboxes (src/named/): --name, --detach, --join. */
  name?: string;
  detach?: boolean;
  join?: string[];
}

export interface FlagDef {
  readonly name: string;
  readonly value?: string;
  readonly description: string;
  /** The Spec field it fills (a dotted path for nested ones), for error messages. */
  readonly field?: keyof SpecInput | `limits.${keyof LimitsInput}`;
  apply(draft: Draft, cli: CliOptions, value: string): void;
}

const list = (v: string) => v.split(",").map((s) => s.trim());

export const FLAGS: readonly FlagDef[] = [
  {
    name: "--share",
    value: "NS[,NS...]",
    field: "share",
    description: "keep the host's namespace(s): pid, mount, uts, ipc, net, cgroup, user, time",
    apply: (d, _c, v) => {
      d.share = [...(d.share ?? []), ...(list(v) as never[])];
    },
  },
  {
    name: "--unshare",
    value: "NS[,NS...]",
    field: "unshare",
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
      const entry = eq < 0 ? { name: v } : { name: v.slice(0, eq), value: v.slice(eq + 1) };
      d.env = [...(d.env ?? []), entry];
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
  ...LIMIT_FLAGS,
  ...HARDENING_FLAGS,
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
      ["--symlink", "TARGET:DST", "create the symlink DST -> TARGET (inside isolate's own tmpfs)"],
      ["--dir", "DST[:MODE]", "create the directory DST (inside isolate's own tmpfs)"],
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
    description: "share the current directory read-only (default: read-write)",
    apply: (d) => {
      d.cwdMount = "ro";
    },
  },
  {
    name: "--no-cwd",
    field: "cwdMount",
    description: "do not share the current directory",
    apply: (d) => {
      d.cwdMount = "none";
    },
  },
  {
    name: "--name",
    value: "NAME",
    description: "a named sandbox: listed by isolate ps, joinable with isolate enter NAME while it runs",
    apply: (_d, c, v) => {
      c.name = v;
    },
  },
  {
    name: "--join",
    value: "NAME:NS[,NS...]",
    description:
      "share these namespaces (net, ipc, uts, user) of the running named sandbox NAME; user comes along when NAME has its own",
    apply: (_d, c, v) => {
      c.join = [...(c.join ?? []), v];
    },
  },
  {
    name: "--detach",
    description:
      "with --name: return at once (the name on stdout); a monitor keeps the sandbox, its output goes to isolate logs NAME",
    apply: (_d, c) => {
      c.detach = true;
    },
  },
  {
    name: "--json",
    description: "write the run report as JSON to stderr when done (shared with the command: see --report-fd)",
    apply: (_d, c) => {
      c.json = true;
    },
  },
  {
    name: "--report",
    value: "FILE",
    description: "write the run report as JSON to FILE (opened before the run; no symlink is followed)",
    apply: (_d, c, v) => {
      c.report = v;
    },
  },
  {
    name: "--report-fd",
    value: "N",
    description: "write the run report as JSON to inherited descriptor N (>= 3; the command never sees it)",
    apply: (_d, c, v) => {
      c.reportFd = v;
    },
  },
];

const byName = new Map(FLAGS.map((f) => [f.name, f]));

/** The flag to name in a message about a Spec field (a dotted path: its longest known prefix). */
export function flagOf(field: string): string {
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

/**
 * Flags up to `--` or the first word that is not a flag; the rest is the
 * command, untouched (`isolate exec -- --ro-bind` runs "--ro-bind").
 */
export function scanFlags(argv: readonly string[], flags: ReadonlyMap<string, FlagDef> = byName): Scanned {
  const draft: Draft = {};
  const cli: CliOptions = { json: false, report: undefined, reportFd: undefined };
  let help = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const def = flags.get(name);
    if (!def) throw new SpecError(`unknown flag ${name}`, "see isolate exec --help");
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
    }
    if (value === undefined) throw new SpecError(`${name} needs a value (${def.value})`);
    def.apply(draft, cli, value);
  }
  draft.command = argv.slice(i);
  return { draft, cli, help };
}
