/** Signal names and numbers (Linux; x86_64 and aarch64 share them). */

import { SpecError } from "../errors.ts";

const NAMES: readonly string[] = [
  "",
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];
const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function signalName(sig: number): string {
  if (NAMES[sig]) return NAMES[sig];
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig === SIGRTMIN ? "SIGRTMIN" : `SIGRTMIN+${sig - SIGRTMIN}`;
  return `SIG${sig}`;
}

export function signalNumber(sig: string | number): number {
  if (typeof sig === "number") {
    if (!Number.isInteger(sig) || sig < 1 || sig > SIGRTMAX)
      throw new SpecError(
        `unknown signal ${sig}`,
        "a name such as SIGTERM, TERM or SIGRTMIN+1, or a number from 1 to 64",
      );
    return sig;
  }
  const upper = sig.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  const n = NAMES.indexOf(name);
  if (n > 0) return n;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) {
    const k = SIGRTMIN + Number(rt[1] ?? 0);
    if (k <= SIGRTMAX) return k;
  }
  throw new SpecError(`unknown signal ${sig}`, "a name such as SIGTERM, TERM or SIGRTMIN+1, or a number from 1 to 64");
}

export const SIGKILL = 9;
/** Asks the sandbox's init to kill and reap everything in its pid namespace (native/record.h). */
export const SIG_END = 64;
export const SIGTERM = 15;
export const TERMINATING = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
