/**
 * The setuid guard: no setuid or setgid bit is set by the command, on any
 * file, so none lands on a writable host mount (the cwd, a --bind, an overlay
 * upper dir). It sits in every filter isolate installs, before the profile's
 * and the flags' rules, so `--seccomp-allow chmod` or a policy file cannot
 * lift it; only `--seccomp none` (no filter at all) drops it.
 *
 * Every call that sets a mode is checked on the mode argument's low 32 bits
 * (mode_t is 32-bit; the kernel ignores the high word):
 *   chmod, fchmod, fchmodat, fchmodat2   mode & 06000 -> EPERM
 *   open, openat, creat                  mode & 06000 with O_CREAT or O_TMPFILE -> EPERM
 *   mknod, mknodat                       mode & 06000 -> EPERM (mknod makes regular files too)
 *   openat2                              ENOSYS: its mode is behind a pointer the filter cannot
 *                                        read; callers fall back to openat (glibc's open() never
 *                                        uses openat2)
 * mkdir ignores S_ISUID/S_ISGID in its mode (a directory's setgid comes from
 * its parent), so it needs no rule. A setgid directory therefore cannot be
 * made with chmod g+s inside; one inherited from a setgid parent still is.
 *
 * File capabilities (the security.capability xattr) need CAP_SETFCAP, which
 * the command does not hold. When it is kept (--cap-add SETFCAP or ALL), the
 * filter cannot read the attribute's name (a pointer), so every xattr write
 * is refused instead (`xattrWrites`).
 */
import type { Action, CompiledRule, Condition } from "./policy.ts";
import { ENOSYS, EPERM } from "./policy.ts";
import { NATIVE, syscallNumber } from "./tables.ts";

/** S_ISUID | S_ISGID. */
export const SETID_BITS = 0o6000;
/** O_CREAT | __O_TMPFILE (O_TMPFILE is __O_TMPFILE | O_DIRECTORY), the same on x86_64 and the generic table. */
export const CREATING = 0o100 | 0o20000000;

/**
 * Calls newer than some headers, by their number in the unified table (the
 * same on x86_64 and aarch64), so the guard holds whatever the headers knew.
 */
const LATE: Readonly<Record<string, number>> = { fchmodat2: 452, setxattrat: 463 };

function nr(name: string): number | undefined {
  const n = syscallNumber(name);
  if (n !== undefined) return n;
  return NATIVE.arch === "x86_64" || NATIVE.arch === "aarch64" ? LATE[name] : undefined;
}

const deny: Action = { type: "errno", errno: EPERM };
const mode = (index: number): Condition => ({ index, op: "anySet", value: SETID_BITS });
const creating = (index: number): Condition => ({ index, op: "anySet", value: CREATING });

function rule(name: string, action: Action, args: Condition[]): CompiledRule {
  const n = nr(name);
  return { names: [name], nrs: n === undefined ? [] : [n], action, args };
}

export interface GuardOptions {
  /** Refuse every xattr write (CAP_SETFCAP is kept: security.capability could be set). */
  readonly xattrWrites?: boolean;
}

/** The guard's rules, in the order the filter tries them (first match wins). */
export function nosuidRules(opts: GuardOptions = {}): CompiledRule[] {
  const rules = [
    rule("chmod", deny, [mode(1)]),
    rule("fchmod", deny, [mode(1)]),
    rule("fchmodat", deny, [mode(2)]),
    rule("fchmodat2", deny, [mode(2)]),
    rule("open", deny, [creating(1), mode(2)]),
    rule("openat", deny, [creating(2), mode(3)]),
    rule("creat", deny, [mode(1)]),
    rule("mknod", deny, [mode(1)]),
    rule("mknodat", deny, [mode(2)]),
    rule("openat2", { type: "errno", errno: ENOSYS }, []),
  ];
  if (opts.xattrWrites) {
    for (const name of ["setxattr", "lsetxattr", "fsetxattr", "setxattrat"]) rules.push(rule(name, deny, []));
  }
  return rules.filter((r) => r.nrs.length > 0);
}
