/**
 * A seccomp setting (profile, file policy, --seccomp-allow/--seccomp-deny)
 * compiled into the classic BPF program the command installs last, just
 * before execve.
 *
 * Program layout:
 *   1. architecture guard: a foreign ABI (i386 through int $0x80, x32) is killed;
 *      number -1 (a call a tracer skipped, e.g. strace's fault injection; the
 *      filter runs after the tracer's syscall-entry stop) is allowed, as
 *      libseccomp lets it through: the kernel runs nothing for it and the
 *      tracer's return value stands;
 *   2. exit, exit_group, rt_sigreturn: always allowed;
 *   3. the setuid guard (nosuid.ts): no setuid/setgid bit on any file;
 *   4. rules, first match wins: --seccomp-deny / --seccomp-allow, then the
 *      policy file's, then the default profile's;
 *   5. with the default profile: numbers newer than the headers get ENOSYS;
 *   6. the default action.
 */

import { Assembler, DATA, encodeProgram, type Insn, RET, retErrno } from "./bpf.ts";
import { type GuardOptions, nosuidRules } from "./nosuid.ts";
import { type Action, action, type CompiledRule, compileRules, EPERM, type Policy } from "./policy.ts";
import { defaultRules, UNKNOWN_ACTION } from "./profiles.ts";
import { type ArchInfo, NATIVE, resolveSyscall, syscallNumber } from "./tables.ts";

/** What the Spec holds: a profile or a policy, and the flags' overrides. */
export interface SeccompSetting {
  readonly profile: "default" | "none" | Policy;
  /** --seccomp-allow NAME: allowed whatever the profile says. */
  readonly allow: readonly string[];
  /** --seccomp-deny NAME: EPERM whatever the profile says. */
  readonly deny: readonly string[];
  /** --allow-nested: the default profile lets the command build nested sandboxes (profiles.ts). */
  readonly nested?: boolean;
}

export const DEFAULT_SECCOMP: SeccompSetting = { profile: "default", allow: [], deny: [] };

const ALWAYS_ALLOWED = ["exit", "exit_group", "rt_sigreturn"];

/** seccomp_data.nr of a call a tracer skipped (it set the number to -1). */
export const SKIPPED_NR = 0xffffffff;

export function actionValue(a: Action): number {
  switch (a.type) {
    case "allow":
      return RET.ALLOW;
    case "kill":
      return RET.KILL_PROCESS;
    case "log":
      return RET.LOG;
    case "errno":
      return retErrno(a.errno);
  }
}

/** The full, ordered rule list and what is left for the rest; null when there is no filter. */
export function resolveSetting(
  s: SeccompSetting,
  guard: GuardOptions = {},
): {
  rules: CompiledRule[];
  unknown: Action | undefined;
  fallback: Action;
} | null {
  const flagRules: CompiledRule[] = [
    ...s.deny.map((n) => ({ names: [n], nrs: num(n), action: { type: "errno", errno: EPERM } as Action, args: [] })),
    ...s.allow.map((n) => ({ names: [n], nrs: num(n), action: { type: "allow" } as Action, args: [] })),
  ];
  if (s.profile === "none") {
    if (flagRules.length === 0) return null;
    return { rules: [...nosuidRules(guard), ...flagRules], unknown: undefined, fallback: { type: "allow" } };
  }
  if (s.profile === "default") {
    return {
      rules: [...nosuidRules(guard), ...flagRules, ...defaultRules(s.nested === true)],
      unknown: UNKNOWN_ACTION,
      fallback: { type: "allow" },
    };
  }
  const p = s.profile;
  const base = p.base === "default";
  return {
    rules: [...nosuidRules(guard), ...flagRules, ...compileRules(p), ...(base ? defaultRules(s.nested === true) : [])],
    unknown: base ? UNKNOWN_ACTION : undefined,
    fallback: action(p.defaultAction, p.defaultErrno),
  };
}

function num(name: string): number[] {
  const n = resolveSyscall(name);
  return n === undefined ? [] : [n];
}

export function assembleFilter(
  rules: readonly CompiledRule[],
  unknown: Action | undefined,
  fallback: Action,
  arch: ArchInfo = NATIVE,
): Insn[] {
  const a = new Assembler();
  // 1. The architecture, then the number (and its ABI bit).
  a.load(DATA.arch);
  a.jeq(arch.auditArch, 1, 0);
  a.ret(RET.KILL_PROCESS);
  a.load(DATA.nr);
  a.jeq(SKIPPED_NR, 0, 1);
  a.ret(RET.ALLOW);
  if (arch.abiBit) {
    a.jge(arch.abiBit, 0, 1);
    a.ret(RET.KILL_PROCESS);
  }
  // 2. What the command's own exit paths need.
  for (const name of ALWAYS_ALLOWED) {
    const nr = syscallNumber(name);
    if (nr === undefined) continue;
    a.jeq(nr, 0, 1);
    a.ret(RET.ALLOW);
  }
  // 3. The rules; A holds the syscall number between them.
  let block = 0;
  for (const r of rules) {
    const ret = actionValue(r.action);
    for (const nr of r.nrs) {
      if (r.args.length === 0) {
        a.jeq(nr, 0, 1);
        a.ret(ret);
        continue;
      }
      const skip = `skip${block}`;
      const fail = `fail${block}`;
      block++;
      a.jeq(nr, 0, skip);
      for (const c of r.args) {
        a.load(DATA.argLow(c.index));
        switch (c.op) {
          case "eq":
            a.jeq(c.value, 0, fail);
            break;
          case "ne":
            a.jeq(c.value, fail, 0);
            break;
          case "anySet":
            a.jset(c.value, 0, fail);
            break;
          case "maskedEq":
            a.and(c.mask ?? 0xffffffff);
            a.jeq(c.value, 0, fail);
            break;
        }
      }
      a.ret(ret);
      a.label(fail);
      a.load(DATA.nr);
      a.label(skip);
    }
  }
  // 4. Newer than the headers.
  if (unknown) {
    a.jgt(arch.max, 0, 1);
    a.ret(actionValue(unknown));
  }
  // 5. Everything else.
  a.ret(actionValue(fallback));
  return a.assemble();
}

/** The default profile untouched by --seccomp-allow/--seccomp-deny. */
export function isPlainDefault(s: SeccompSetting): boolean {
  return s.profile === "default" && s.allow.length === 0 && s.deny.length === 0 && s.nested !== true;
}

/**
 * The program's bytes, or null for no filter at all (`--seccomp none`). The
 * plain default's bytes are also made at build time (build/seccomp-default.ts),
 * so a default run builds none.
 */
export function compileSeccomp(s: SeccompSetting, guard: GuardOptions = {}): Uint8Array | null {
  const r = resolveSetting(s, guard);
  if (!r) return null;
  return encodeProgram(assembleFilter(r.rules, r.unknown, r.fallback));
}
