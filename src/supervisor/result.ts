/** The typed result of every run. */
import { signalName } from "./signals.ts";

export type Status =
  | { readonly type: "exited"; readonly code: number }
  | {
      readonly type: "signaled";
      readonly signal: number;
      readonly name: string;
    };

/**
 * ok: the command ran and ended on its own (any exit code or signal).
 * timeout / cpu-time / oom: a limit ended it. killed: kill() ended it.
 * setup: a setup op failed before the command ran. exec: the command could not be executed.
 */
export type Reason = "ok" | "timeout" | "cpu-time" | "oom" | "killed" | "setup" | "exec";

export interface SetupFailure {
  /** Position of the failing op in the plan, or -1 for a stage outside it. */
  readonly index: number;
  /** The op's name (e.g. "hostname") or the stage's. */
  readonly op: string;
  /** The op in words, e.g. `hostname "x"`. */
  readonly what: string;
  readonly errno: number;
  readonly errnoName: string;
  /** The one line the CLI prints after `isolate: `. */
  readonly message: string;
}

export interface Result {
  readonly status: Status;
  /** What a shell would see: the code, or 128+N for signal N; 125 setup, 126/127 exec. */
  readonly exitCode: number;
  readonly reason: Reason;
  readonly wallMs: number;
  readonly cpu: { readonly userMs: number; readonly sysMs: number };
  /** Peak resident memory: the cgroup's when one is used, else the largest process's. */
  readonly memoryPeakBytes: number | null;
  readonly pidsPeak: number | null;
  readonly limits: Readonly<Record<string, unknown>>;
  readonly error?: SetupFailure;
}

export function statusFromWait(status: number): Status {
  const sig = status & 0x7f;
  if (sig === 0) return { type: "exited", code: (status >> 8) & 0xff };
  return { type: "signaled", signal: sig, name: signalName(sig) };
}

export function exitCodeOf(status: Status): number {
  return status.type === "exited" ? status.code : 128 + status.signal;
}
