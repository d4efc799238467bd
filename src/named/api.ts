/**
 * Named sandboxes as a library: spawnNamed(), list(), open(name).
 *
 *   const h = await spawnNamed({ command: ["server"] }, { name: "web", detach: true });
 *   const r = await h.enter(["curl", "-s", "http://127.0.0.1:8080/"], { stdout: "pipe" });
 *   await h.stop();
 *   const report = await h.wait();
 *
 * Without detach the calling process is the monitor (its exit ends the
 * sandbox, as with spawn()); with detach a monitor process keeps it (the
 * library run again: src/named/monitor-entry.ts, src/named/supervise.ts).
 */
import { parseSpec } from "../config/parse.ts";
import type { SpecInput } from "../config/schema.ts";
import type { Result } from "../supervisor/result.ts";
import type { Sandbox, SpawnOptions } from "../supervisor/sandbox.ts";
import {
  info,
  list as listAll,
  remove,
  type SandboxInfo,
  type StopOptions,
  stateOf,
  stop,
  waitResult,
} from "./control.ts";
import { type Entered, type EnterOptions, type EnterResult, enter } from "./enter.ts";
import { type LiveStats, liveStats } from "./stats.ts";

export type { EnterOptions, EnterResult, LiveStats, SandboxInfo, StopOptions };

export interface NamedOptions extends SpawnOptions {
  readonly name: string;
  /** Keep running under a monitor process of its own; stdin /dev/null, stdout and stderr to its log. */
  readonly detach?: boolean;
}

export type { Entered as EnteredProcess } from "./enter.ts";

export interface NamedHandle {
  readonly name: string;
  /** The in-process sandbox, when this process is its monitor (not detached). */
  readonly sandbox: Sandbox | null;
  info(): SandboxInfo;
  /** Run a command inside it (see `isolate enter`). */
  enter(command: readonly string[], opts?: EnterOptions): Entered;
  /** Live figures from its cgroups. */
  stats(): LiveStats;
  /** Signal, then end everything after the grace; resolves once it has ended. */
  stop(opts?: StopOptions): Promise<void>;
  /** Its report, once it ends. */
  wait(): Promise<Result>;
  /** Remove its state (it must have ended). */
  remove(): void;
}

export function open(name: string, sandbox: Sandbox | null = null): NamedHandle {
  stateOf(name);
  return {
    name,
    sandbox,
    info: () => info(stateOf(name)),
    enter: (command, opts) => enter(name, command, opts),
    stats: () => liveStats(stateOf(name).cgroups),
    stop: async (opts) => {
      await stop(name, opts);
    },
    wait: () => waitResult(name),
    remove: () => remove(name),
  };
}

export function list(): SandboxInfo[] {
  return listAll();
}

export async function spawnNamed(input: SpecInput, opts: NamedOptions): Promise<NamedHandle> {
  const spec = parseSpec(input);
  if (!opts.detach) {
    const { spawnNamed: start } = await import("./spawn.ts");
    const { name: _name, detach: _detach, ...spawnOpts } = opts;
    const named = await start(spec, opts.name, false, spawnOpts);
    return open(opts.name, named.sandbox);
  }
  const { launchMonitor } = await import("./supervise.ts");
  // The library ships without the CLI: its monitor is bun with monitor-entry.ts.
  await launchMonitor([process.execPath, `${import.meta.dir}/monitor-entry.ts`], opts.name, {
    name: opts.name,
    spec: input,
  });
  return open(opts.name);
}
