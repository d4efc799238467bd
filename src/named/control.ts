/**
 * Named sandboxes from the outside: list, stop, wait, remove, clean. Each
 * acts on the caller's own state directory only, and reaches a sandbox's
 * processes through pidfds checked against their recorded start time.
 */
import { SpecError } from "../errors.ts";
import type { Result } from "../supervisor/result.ts";
import { SIG_END, SIGKILL, signalNumber } from "../supervisor/signals.ts";
import {
  hasStateRoot,
  type Liveness,
  listNames,
  liveness,
  type NamedState,
  openInit,
  readState,
  removeFiles,
  withLock,
} from "./state.ts";
import { type LiveStats, liveStats, NO_STATS } from "./stats.ts";

export interface SandboxInfo {
  readonly name: string;
  readonly state: Liveness;
  /** Host pid of its init (pid 1 inside), while it runs. */
  readonly pid: number | null;
  readonly monitorPid: number;
  readonly detached: boolean;
  readonly createdMs: number;
  readonly ageMs: number;
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly result: Result | null;
  readonly stats: LiveStats;
}

export function info(s: NamedState, l: Liveness = liveness(s)): SandboxInfo {
  const running = l === "running";
  return {
    name: s.name,
    state: l,
    pid: running ? (s.init?.pid ?? null) : null,
    monitorPid: s.monitor.pid,
    detached: s.detached,
    createdMs: s.createdMs,
    ageMs: Date.now() - s.createdMs,
    command: s.command,
    exitCode: s.result?.exitCode ?? null,
    result: s.result ?? null,
    stats: running ? liveStats(s.cgroups) : NO_STATS,
  };
}

/** Every sandbox of the caller. */
export function list(): SandboxInfo[] {
  const out: SandboxInfo[] = [];
  for (const name of listNames()) {
    const s = readState(name);
    if (s) out.push(info(s));
  }
  return out;
}

export function stateOf(name: string): NamedState {
  const s = readState(name);
  if (!s) throw new SpecError(`${name}: no such sandbox`, "see isolate ps");
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the state once the sandbox has ended (exited, or its monitor died). */
export async function waitEnded(name: string, timeoutMs = Number.POSITIVE_INFINITY): Promise<NamedState> {
  const until = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const s = stateOf(name);
    const l = liveness(s);
    if (l === "exited") return s;
    // The monitor writes the report, then exits: between this read and its liveness check it may have done both.
    if (l === "dead") return stateOf(name);
    if (Date.now() >= until) return s;
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/** The report of an ended sandbox, once it ends; throws when its monitor died without one. */
export async function waitResult(name: string): Promise<Result> {
  const s = await waitEnded(name);
  if (!s.result) {
    throw new SpecError(`${name}: its monitor died without a report`, "isolate clean removes what is left");
  }
  return s.result;
}

export interface StopOptions {
  /** Sent to the command first (default SIGTERM). SIGKILL ends the whole sandbox at once. */
  readonly signal?: string | number;
  /** How long to wait before ending everything (default 10s). */
  readonly killAfterMs?: number;
}

/**
 * Stop a sandbox: the signal to its init (which forwards it to the command),
 * then after the grace SIG_END (the init ends the whole sandbox and still
 * reports), then SIGKILL of the init. Resolves once the monitor has recorded
 * the end. A sandbox that has ended already is left as it is.
 */
export async function stop(name: string, opts: StopOptions = {}): Promise<NamedState> {
  const sig = signalNumber(opts.signal ?? "SIGTERM");
  const grace = opts.killAfterMs ?? 10_000;
  let s = stateOf(name);
  if (liveness(s) === "starting") s = await waitRunning(name);
  const fd = openInit(s);
  if (fd === null) return waitEnded(name, 5000);
  const { loadShim } = await import("../shim/load.ts");
  const shim = loadShim();
  try {
    shim.signal(fd, sig === SIGKILL ? SIG_END : sig);
    let ended = await waitEnded(name, sig === SIGKILL ? 1000 : grace);
    if (liveness(ended) === "running") {
      shim.signal(fd, SIG_END);
      ended = await waitEnded(name, 1000);
    }
    if (liveness(ended) === "running") shim.signal(fd, SIGKILL);
  } finally {
    shim.close(fd);
  }
  return waitEnded(name, 10_000);
}

async function waitRunning(name: string): Promise<NamedState> {
  for (let i = 0; i < 500; i++) {
    const s = stateOf(name);
    if (liveness(s) !== "starting") return s;
    await sleep(10);
  }
  return stateOf(name);
}

/** Remove an ended sandbox's state; refuses a running one. */
export function remove(name: string): void {
  withLock(() => {
    const s = stateOf(name);
    const l = liveness(s);
    if (l === "running" || l === "starting") {
      throw new SpecError(`${name}: still running`, `stop it first: isolate stop ${name}`);
    }
    removeFiles(name);
  });
}

/** Remove the state of every sandbox whose monitor died without a report. */
export function cleanDead(dryRun = false): string[] {
  if (!hasStateRoot()) return [];
  return withLock(() => {
    const out: string[] = [];
    for (const name of listNames()) {
      const s = readState(name);
      if (!s || liveness(s) !== "dead") continue;
      // Its report may have landed between the read and the liveness check (see waitEnded).
      const again = readState(name);
      if (!again || liveness(again) !== "dead") continue;
      if (!dryRun) removeFiles(name);
      out.push(name);
    }
    return out;
  });
}
