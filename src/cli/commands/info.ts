/**
 * What each command is, for people: the help text, the man page and the
 * completion scripts are rendered from this and from the flag table
 * (src/cli/flags.ts). Plain data: loading it costs nothing on `isolate exec`.
 */

export interface OptionDoc {
  readonly name: string;
  readonly value?: string;
  readonly description: string;
  readonly choices?: readonly string[];
}

export interface CommandInfo {
  readonly name: string;
  /** One line, for the command list. */
  readonly summary: string;
  /** After `isolate `. */
  readonly synopsis: string;
  /** Paragraphs. */
  readonly description: readonly string[];
  readonly examples: readonly (readonly [command: string, what: string])[];
  readonly exit: readonly (readonly [code: string, meaning: string])[];
  /** Completion offers these words as the first argument. */
  readonly args?: readonly string[];
}

const SPEC_EXIT = [["125", "a bad flag, profile or env file, or a setup step failed (the message names it)"]] as const;

export const COMMANDS: readonly CommandInfo[] = [
  {
    name: "exec",
    summary: "run a command in a sandbox; exits with the command's status",
    synopsis: "exec [flags] [--] CMD [ARG...]",
    description: [
      "Runs CMD in fresh pid, mount, uts, ipc, net and cgroup namespaces (and a user namespace when not root). It sees the host's files read-only, the current directory read-write, a private /tmp, /dev and /proc, loopback only, and holds no capability.",
      "Flags end at -- or at the first word that is not a flag: everything after it is the command, untouched. Repeatable flags keep every value, in order. A --profile is the base the other flags build on: lists (--env, mounts, --share, --rlimit, ...) append to it, every other flag overrides it.",
    ],
    examples: [
      ["isolate exec -- make test", "build in a sandbox: the current directory is writable, the rest read-only"],
      ["isolate exec --memory 512M --pids 64 --timeout 10s -- ./untrusted", "with limits"],
      ["isolate exec --no-cwd --ro-bind ./sub:/sub --chdir /sub -- ./run", "only ./sub, read-only, at /sub"],
      ["isolate exec --share net --env-file ci.env -- npm ci", "with the host's network and an env file"],
      ["isolate exec --profile judge --report out.json -- ./solution", "a profile, and the run report in a file"],
    ],
    exit: [
      ["N", "the command exited with N"],
      ["128+N", "the command was killed by signal N (a limit, a timeout, SIGKILL: the report says which)"],
      ...SPEC_EXIT,
      ["126", "the command is not executable"],
      ["127", "the command was not found"],
    ],
  },
  {
    name: "plan",
    summary: "print the normalized spec and setup ops a command would get; creates nothing",
    synopsis: "plan [flags] [--] CMD [ARG...]",
    description: [
      "Takes the same flags as exec (without --report and --report-fd: plan runs nothing) and prints the merged, normalized Spec and the setup operations the sandbox would be built with, in order. Nothing is created. With --json the same goes to stdout as JSON.",
    ],
    examples: [
      ["isolate plan -- true", "the default sandbox"],
      ["isolate plan --profile ci.toml --memory 2G -- make", "a profile with one limit overridden"],
      ["isolate plan --json --bind .:/src -- sh | jq .spec.mounts", "the mounts, as JSON"],
    ],
    exit: [["0", "the plan was printed"], ...SPEC_EXIT],
  },
  {
    name: "check",
    summary: "what this host and user can do, each missing piece with its remedy",
    synopsis: "check [--json]",
    description: [
      "Checks the kernel features, cgroup delegation, user namespaces and helpers isolate uses, as the calling user, and prints one line each, with the remedy for what is missing. Optional features are marked.",
    ],
    examples: [
      ["isolate check", "as yourself"],
      ["sudo -u nobody isolate check --json", "as another user, for a script"],
    ],
    exit: [
      ["0", "the default sandbox works here"],
      ["1", "something the default sandbox needs is missing (the report names it)"],
      ["125", "a bad argument"],
    ],
  },
  {
    name: "clean",
    summary: "remove cgroups left by isolate processes that died (e.g. SIGKILLed)",
    synopsis: "clean [--dry-run]",
    description: [
      "An isolate process killed with SIGKILL cannot remove its cgroups (isolate-<pid>-<n>). clean removes those whose isolate process is gone; cgroups of live ones are never touched. It also removes the state of the caller's named sandboxes whose monitor died.",
    ],
    examples: [
      ["isolate clean --dry-run", "list what would be removed"],
      ["isolate clean", "remove it"],
    ],
    exit: [
      ["0", "done (or nothing to do)"],
      ["125", "a bad argument, or a cgroup could not be removed (each is named)"],
    ],
  },
  {
    name: "completion",
    summary: "print a shell completion script (bash, zsh or fish)",
    synopsis: "completion bash|zsh|fish",
    description: [
      "Prints a script that makes the shell complete isolate's commands, flags and their values. Source it from the shell's startup file. The script asks isolate itself what to complete, so flags of a newer isolate appear without regenerating it.",
    ],
    examples: [
      ["source <(isolate completion bash)", "in ~/.bashrc"],
      ["isolate completion zsh > ~/.zsh/completions/_isolate", "zsh, from a directory in $fpath"],
      ["isolate completion fish > ~/.config/fish/completions/isolate.fish", "fish"],
    ],
    exit: [
      ["0", "the script was printed"],
      ["125", "no shell, or one isolate has no script for"],
    ],
    args: ["bash", "zsh", "fish"],
  },
  {
    name: "man",
    summary: "print the manual page (roff)",
    synopsis: "man",
    description: [
      "Prints isolate(1) as roff, rendered from the same tables as --help. docs/isolate.1 is the same text.",
    ],
    examples: [
      ["isolate man | man -l -", "read it"],
      ["isolate man > /usr/local/share/man/man1/isolate.1", "install it"],
    ],
    exit: [["0", "printed"]],
  },
  // Named sandboxes (src/named/, docs/named.md).
  {
    name: "ps",
    summary: "list your named sandboxes: state, pid, age, memory, CPU, processes, command",
    synopsis: "ps [--json]",
    description: [
      "Lists the named sandboxes (exec --name) of the calling user, from its own state directory: running, exited (with its status), or dead (its monitor died; isolate clean removes it). Memory, CPU and processes come from the sandbox's cgroups, where it has them. Other users' sandboxes are never shown.",
    ],
    examples: [
      ["isolate ps", "a table"],
      ["isolate ps --json | jq '.[].name'", "for a script"],
    ],
    exit: [
      ["0", "listed"],
      ["125", "a bad argument, or the state directory is unusable"],
    ],
  },
  {
    name: "enter",
    summary: "run a command inside a running named sandbox (default: a shell)",
    synopsis: "enter NAME [--] [CMD [ARG...]]",
    description: [
      "Joins every namespace of the sandbox with one setns on a pidfd of its init, enters its cgroups, and runs the sandbox's command half of the plan (session, rlimits, ids, no_new_privs, Landlock, capabilities, seccomp) before exec: CMD sees what the sandbox's command sees, is held by its limits, and has its identity and confinement.",
    ],
    examples: [
      ["isolate enter web", "a shell inside web"],
      ["isolate enter web -- ps ax", "its processes"],
    ],
    exit: [
      ["N", "CMD exited with N"],
      ["128+N", "CMD was killed by signal N"],
      ["125", "no such running sandbox, or a setup step failed"],
      ["126", "CMD is not executable"],
      ["127", "CMD was not found"],
    ],
  },
  {
    name: "logs",
    summary: "print a detached sandbox's output",
    synopsis: "logs [--follow] NAME",
    description: ["Prints what a detached sandbox (exec --name NAME --detach) wrote to stdout and stderr."],
    examples: [["isolate logs --follow web", "until it ends"]],
    exit: [
      ["0", "printed"],
      ["125", "no such sandbox, or it has no log"],
    ],
  },
  {
    name: "stats",
    summary: "live figures of a named sandbox from its cgroups",
    synopsis: "stats [--json] [--interval D] NAME",
    description: ["Memory now and peak, CPU time and processes, read from the sandbox's cgroups."],
    examples: [["isolate stats --interval 1s web", "every second until it ends"]],
    exit: [
      ["0", "printed"],
      ["125", "no such sandbox, or a bad argument"],
    ],
  },
  {
    name: "stop",
    summary: "stop a named sandbox: a signal, then everything after a grace",
    synopsis: "stop [--signal SIG] [--kill-after D] NAME",
    description: [
      "Sends SIG (default SIGTERM) to the sandbox's command; if it has not ended after D (default 10s) the whole sandbox is ended. Returns once its monitor has recorded the end. A sandbox that has ended already is left as it is.",
    ],
    examples: [["isolate stop --kill-after 2s web", "SIGTERM, then everything after 2 seconds"]],
    exit: [
      ["0", "it has ended"],
      ["125", "no such sandbox, a bad argument, or it still runs"],
    ],
  },
  {
    name: "wait",
    summary: "wait for a named sandbox to end; print its report; exit with its code",
    synopsis: "wait NAME",
    description: [
      "Waits until the sandbox ends, prints its run report as JSON on stdout, and exits with its exit code.",
    ],
    examples: [["isolate wait web", "its report once it ends"]],
    exit: [
      ["N", "the sandbox's exit code"],
      ["125", "no such sandbox, or its monitor died without a report"],
    ],
  },
  {
    name: "rm",
    summary: "remove an ended named sandbox's state (a running one is refused)",
    synopsis: "rm NAME",
    description: ["Forgets an ended sandbox: its state, report and log. The name is free again."],
    examples: [["isolate rm web", "forget web"]],
    exit: [
      ["0", "removed"],
      ["125", "no such sandbox, or it still runs"],
    ],
  },
];

/** The named-sandbox commands' own flags. */
export const NAMED_OPTIONS: Readonly<Record<string, readonly OptionDoc[]>> = {
  ps: [{ name: "--json", description: "as JSON" }],
  enter: [],
  logs: [{ name: "--follow", description: "keep printing until the sandbox ends" }],
  stats: [
    { name: "--json", description: "as JSON (one object per line with --interval)" },
    { name: "--interval", value: "D", description: "print again every D until it ends" },
  ],
  stop: [
    { name: "--signal", value: "SIG", description: "the signal sent first (default SIGTERM)" },
    { name: "--kill-after", value: "D", description: "end everything if still running after D (default 10s)" },
  ],
  wait: [],
  rm: [],
};

export const CHECK_OPTIONS: readonly OptionDoc[] = [{ name: "--json", description: "the report as JSON" }];
export const CLEAN_OPTIONS: readonly OptionDoc[] = [
  { name: "--dry-run", description: "list what would be removed, remove nothing" },
];

export const SUMMARY = "run host processes in fresh Linux namespaces, with limits";
