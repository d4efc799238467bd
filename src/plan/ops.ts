/**
 * The opcode table: the single source of truth for the plan format.
 * scripts/gen-ops.ts turns it into the C side's opcodes and dispatch tables
 * (build/ops.h, ops_values.c, ops_run.c): every op has a value check in native/,
 * values_<name> (snake case), and every op of the sandbox and command phases an
 * executor, op_<name>; without one the C build fails. An op whose args have
 * no constraints says so here (values: "none").
 *
 * Phases run in this order:
 *  - spawn:   read by the shim itself (clone flags); runs nothing in the child.
 *  - sandbox: run by the init (pid 1 of the sandbox) once, before the command exists.
 *  - command: run in the command's own process, after fork, before execve.
 */

export type ArgKind = "u" | "s" | "v" | "b";
export type Phase = "spawn" | "sandbox" | "command";

export interface OpDef {
  readonly code: number;
  readonly phase: Phase;
  readonly args: readonly (readonly [name: string, kind: ArgKind])[];
  /** "none": any value of the args is valid (the C side checks nothing: values_none). */
  readonly values?: "none";
}

export const OPS = {
  clone: { code: 1, phase: "spawn", args: [["flags", "u"]] },

  mountPrivate: { code: 10, phase: "sandbox", args: [], values: "none" },
  unshare: { code: 11, phase: "sandbox", args: [["flags", "u"]] },
  hostname: { code: 12, phase: "sandbox", args: [["name", "s"]] },
  loopbackUp: { code: 13, phase: "sandbox", args: [], values: "none" },
  // The filesystem view (src/facilities/view/ops.ts, native/op_mount.c). Paths are
  // absolute; destinations are resolved inside the new root, never through a symlink.
  mountRoot: {
    code: 14,
    phase: "sandbox",
    args: [
      ["source", "s"],
      ["attrs", "u"],
    ],
  },
  // hardening (34-39): once the command is started, the init keeps only these
  // capabilities (bounding set included) and, with flags bit 1, takes the
  // command's ids (and, with bit 2, its supplementary groups).
  initCaps: {
    code: 34,
    phase: "sandbox",
    args: [
      ["keep", "u"],
      ["uid", "u"],
      ["gid", "u"],
      ["gids", "b"],
      ["flags", "u"],
    ],
  },
  // The init's own ids in its new user namespace, when the caller's are not mapped there.
  initIds: {
    code: 35,
    phase: "sandbox",
    args: [
      ["uid", "u"],
      ["gid", "u"],
    ],
  },
  bind: {
    code: 15,
    phase: "sandbox",
    args: [
      ["src", "s"],
      ["dst", "s"],
      ["flags", "u"],
    ],
  },
  tmpfs: {
    code: 16,
    phase: "sandbox",
    args: [
      ["dst", "s"],
      ["size", "u"],
      ["mode", "u"],
      ["flags", "u"],
    ],
  },
  mountProc: {
    code: 17,
    phase: "sandbox",
    args: [
      ["dst", "s"],
      ["flags", "u"],
    ],
  },
  mountDev: {
    code: 18,
    phase: "sandbox",
    args: [
      ["dst", "s"],
      ["nodes", "v"],
      ["links", "v"],
      ["ptsOptions", "s"],
      ["flags", "u"],
    ],
  },
  mask: {
    code: 19,
    phase: "sandbox",
    args: [
      ["path", "s"],
      ["flags", "u"],
    ],
  },
  readonly: {
    code: 20,
    phase: "sandbox",
    args: [
      ["path", "s"],
      ["flags", "u"],
    ],
  },
  overlay: {
    code: 21,
    phase: "sandbox",
    args: [
      ["dst", "s"],
      ["upper", "s"],
      ["work", "s"],
      ["flags", "u"],
    ],
  },
  symlink: {
    code: 22,
    phase: "sandbox",
    args: [
      ["target", "s"],
      ["dst", "s"],
    ],
  },
  mkdir: {
    code: 23,
    phase: "sandbox",
    args: [
      ["dst", "s"],
      ["mode", "u"],
    ],
  },
  pivotRoot: { code: 24, phase: "sandbox", args: [], values: "none" },
  // Mount points in a read-only host directory of the view (src/facilities/view/mountpoints.ts):
  // it is rebuilt on a tmpfs of the sandbox's own, its entries bound back as they were.
  mountPoints: { code: 26, phase: "sandbox", args: [["dir", "s"]] },
  // A fresh cgroup file system (read-only), rooted at the sandbox's cgroup
  // namespace: options "" is cgroup2, else the v1 hierarchy's controllers.
  mountCgroup: {
    code: 25,
    phase: "sandbox",
    args: [
      ["dst", "s"],
      ["options", "s"],
      ["flags", "u"],
    ],
  },
  // The limits the init enforces itself (native/init_limits.c): wall clock from the command's start,
  // the kill-after grace, and a CPU budget read from the cgroup counter at cpuFile
  // (cpuUnit 1: v1 cpuacct.usage in ns, 2: v2 cpu.stat; 0 with no budget). 0 = none.
  initLimits: {
    code: 28,
    phase: "sandbox",
    args: [
      ["wallUs", "u"],
      ["graceUs", "u"],
      ["cpuUs", "u"],
      ["cpus", "u"],
      ["cpuFile", "s"],
      ["cpuUnit", "u"],
    ],
  },

  // --pty (src/supervisor/pty.ts, native/op_pty.c): the init opens a pty in the view's devpts with this
  // window size and passes the master to the supervisor; the command takes the slave as its terminal.
  ptyOpen: {
    code: 29,
    phase: "sandbox",
    args: [
      ["rows", "u"],
      ["cols", "u"],
    ],
  },

  setsid: { code: 40, phase: "command", args: [], values: "none" },
  ptyAttach: { code: 44, phase: "command", args: [], values: "none" },
  keyring: { code: 41, phase: "command", args: [], values: "none" },
  chdir: { code: 42, phase: "command", args: [["dir", "s"]] },
  rlimit: {
    code: 43,
    phase: "command",
    args: [
      ["resource", "u"],
      ["soft", "u"],
      ["hard", "u"],
    ],
  },
  // hardening (48-62): privileges and identity of the command, then its seccomp filter last
  noNewPrivs: { code: 48, phase: "command", args: [], values: "none" },
  capBounding: { code: 49, phase: "command", args: [["keep", "u"]] },
  securebits: { code: 50, phase: "command", args: [["bits", "u"]] },
  setGroups: { code: 51, phase: "command", args: [["gids", "b"]] },
  setIds: {
    code: 52,
    phase: "command",
    args: [
      ["uid", "u"],
      ["gid", "u"],
    ],
  },
  caps: { code: 53, phase: "command", args: [["keep", "u"]] },
  // Landlock (src/facilities/landlock/ops.ts, native/op_landlock.c): handled fs rights, scopes,
  // paths granted every right but IOCTL_DEV, paths granted every right, flags
  landlock: {
    code: 56,
    phase: "command",
    args: [
      ["fs", "u"],
      ["scope", "u"],
      ["write", "v"],
      ["device", "v"],
      ["flags", "u"],
    ],
  },
  seccomp: { code: 62, phase: "command", args: [["filter", "b"]] },
  exec: {
    code: 63,
    phase: "command",
    args: [
      ["path", "s"],
      ["argv", "v"],
      ["env", "v"],
    ],
  },
} as const satisfies Record<string, OpDef>;

export type OpName = keyof typeof OPS;

export const PHASES: readonly Phase[] = ["spawn", "sandbox", "command"];

/** Pseudo-ops: failures outside the plan, reported by the shim or the init with a negative opcode. */
export const STAGES: Record<number, string> = {
  [-1]: "spawn: arrange file descriptors",
  [-2]: "spawn: keep capabilities across exec",
  [-3]: "spawn: start the sandbox init",
  [-4]: "init: read the plan",
  [-5]: "init: start the command",
  [-6]: "init: watch signals",
  [-7]: "init: arm the time limits",
  [-8]: "enter: join the sandbox's namespaces",
  [-9]: "spawn: a session of its own",
};

const byCode = new Map<number, OpName>((Object.keys(OPS) as OpName[]).map((name) => [OPS[name].code, name]));

export function opName(code: number): OpName | undefined {
  return byCode.get(code);
}
