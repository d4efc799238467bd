/** The typed result of every run. */

import { type FieldNamer, nameFields } from "../errors.ts";
import type { LandlockReport } from "../facilities/landlock/ops.ts";
import type { NetReport } from "../facilities/net/pasta.ts";
import { signalName } from "./signals.ts";

export type { LandlockReport, NetReport };

export type Status =
  | { readonly type: "exited"; readonly code: number }
  | {
      readonly type: "signaled";
      readonly signal: number;
      readonly name: string;
    };

/**
 * ok: the command ran and ended on its own (any exit code or signal).
 * timeout / cpu-time / oom: a limit ended it. output: run() with `outputLimit: "kill"`
 * ended it at its output cap. killed: the caller ended it (kill(), an AbortSignal,
 * disposal), whatever the signal.
 * setup: a setup op failed before the command ran. exec: the command could not be executed.
 */
export type Reason = "ok" | "timeout" | "cpu-time" | "oom" | "output" | "killed" | "setup" | "exec";

/** The reasons of a sandbox whose command never ran: `error` says why. */
export type FailedReason = "setup" | "exec";

export interface SetupFailure {
  /** Position of the failing op in the plan, or -1 for a stage outside it. */
  readonly index: number;
  /** The op's name (e.g. "hostname") or the stage's. */
  readonly op: string;
  /** The op in words, e.g. `hostname "x"`. */
  readonly what: string;
  readonly errno: number;
  readonly errnoName: string;
  /**
   * The one line after `isolate: `, naming Spec fields (`userns: "host"`);
   * failureText() names them another way (the CLI: its flags).
   */
  readonly message: string;
}

/** A failure's words with their fields as tokens (src/errors.ts field()); not part of its JSON. */
const failureWords = new WeakMap<SetupFailure, string>();

/** A SetupFailure from its words (fields as tokens): its message names them as Spec fields, as IsolateError does. */
export function setupFailure(f: Omit<SetupFailure, "message">, words: string): SetupFailure {
  const out: SetupFailure = { ...f, message: nameFields(words) };
  failureWords.set(out, words);
  return out;
}

/**
 * The failure's one line with its fields named by `namer`, as IsolateError.text():
 * the CLI passes its flags.
 */
export function failureText(f: SetupFailure, namer?: FieldNamer): string {
  const words = failureWords.get(f);
  return words === undefined ? f.message : nameFields(words, namer);
}

/** The fields of every result, whatever its reason. */
export interface ResultBase {
  readonly status: Status;
  /** What a shell would see: the code, or 128+N for signal N; 125 setup, 126/127 exec. */
  readonly exitCode: number;
  readonly reason: Reason;
  /** Wall time from the command's start to its end (ms). */
  readonly wallMs: number;
  readonly cpu: { readonly userMs: number; readonly sysMs: number };
  /** Peak resident memory: the cgroup's when one is used, else the largest process's. */
  readonly memoryPeakBytes: number | null;
  readonly pidsPeak: number | null;
  readonly limits: LimitsReport;
  /** Whether the command ran under Landlock, with which ABI, restricting what. */
  readonly landlock: LandlockReport;
  /** The network: its mode, the published ports and, with an allowlist, the refused connections. */
  readonly network: NetReport;
}

/**
 * The result of a run, discriminated by `reason`: "setup" and "exec" carry
 * the failure in `error`; any other reason may carry one only when the
 * caller or a limit ended the sandbox during its setup.
 *
 * @example
 * if (r.reason === "setup" || r.reason === "exec") console.error(r.error.message);
 * else if (r.status.type === "signaled") console.log(r.status.name);
 */
export type Result =
  | (ResultBase & { readonly reason: FailedReason; readonly error: SetupFailure })
  | (ResultBase & { readonly reason: Exclude<Reason, FailedReason>; readonly error?: SetupFailure });

/** Limits in the report: what was applied, where, and what acted. */
export interface LimitsReport {
  /** The limits in force, normalized: bytes, milliseconds, CPUs (absent ones are left out). */
  readonly applied: Readonly<Record<string, unknown>>;
  /** The sandbox's cgroups (null when no limit needed one): the version serving each controller, and the directories. */
  readonly cgroup: {
    readonly versions: Readonly<Record<string, "v1" | "v2">>;
    readonly paths: readonly string[];
  } | null;
  /**
   * The limits that acted: timeout, cpu-time (they ended the sandbox), memory (the
   * OOM killer ended a process), pids (a fork or clone was refused), output (run()'s
   * output cap was passed).
   */
  readonly fired: readonly ("timeout" | "cpu-time" | "memory" | "pids" | "output")[];
  /** Processes ended by the OOM killer, and forks refused at the pids limit. */
  readonly oomKills: number;
  readonly pidsRefused: number;
  /** Cgroup directories that could not be removed (`isolate clean` will). */
  readonly leftovers?: readonly string[];
}

export const NO_LIMITS_REPORT: LimitsReport = { applied: {}, cgroup: null, fired: [], oomKills: 0, pidsRefused: 0 };

export function statusFromWait(status: number): Status {
  const sig = status & 0x7f;
  if (sig === 0) return { type: "exited", code: (status >> 8) & 0xff };
  return { type: "signaled", signal: sig, name: signalName(sig) };
}

export function exitCodeOf(status: Status): number {
  return status.type === "exited" ? status.code : 128 + status.signal;
}

/** A Result from its fields: the one place a computed reason meets the discriminated type. */
export function makeResult(base: ResultBase & { readonly reason: Reason }, error?: SetupFailure): Result {
  return (error ? { ...base, error } : base) as Result;
}
