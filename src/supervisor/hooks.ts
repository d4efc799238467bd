/**
 * The supervisor's plug-in points. Each facility (src/facilities/<name>/) that
 * has work to do around a sandbox's run gives a factory of FacilityHooks in its
 * own folder; src/facilities/index.ts lists them in order, and the supervisor
 * (src/supervisor/sandbox.ts) runs every hook of one phase, in that order,
 * before the next phase:
 *
 *   check      before anything is created: refuse what this host cannot do
 *   prepare    before the clone: cgroups, files to bind; may replace the Spec
 *              (ctx.spec) and contribute to the plan (ctx.cgroupMounts, ctx.cpuCounter)
 *   beforeGo   the init is cloned and waits: id maps, idmapped mounts, cgroup
 *              placement, the network; a failure the run should report rather
 *              than throw goes to ctx.refuse()
 *   started    the command has started (its exec succeeded)
 *   watch      after GO, while the sandbox runs: watchdogs
 *   finish     the sandbox is gone (normal end only): its part of the result
 *   cleanup    EVERY path (a failure before the clone, before GO, the normal
 *              end, a kill), once, in the reverse order of the registry, after
 *              finish; idempotent, and safe when prepare never ran or failed
 *              half-way. A promise it returns is awaited before `ready` rejects
 *              or `exited` resolves.
 *
 * The hot path (every spawn) awaits only what a hook returns as a promise: a
 * hook with nothing to do returns undefined.
 */

import type { CpuCounter } from "../cgroup/v1.ts";
import type { Namespace, Spec } from "../config/schema.ts";
import type { CgroupMount } from "../facilities/view/ops.ts";
import type { Host } from "../host/probe.ts";
import type { Op } from "../plan/op.ts";
import type { Resolved } from "../plan/resolve.ts";
import type { Shim, Spawned, StartIO, Waited } from "../shim/load.ts";
import type { SandboxRecord } from "./records.ts";
import type { Reason, Result, SetupFailure } from "./result.ts";

/** What the caller of spawnSpec() asked of the setup that facilities read. */
export interface SetupOptions {
  /** Named sandboxes: make a cgroup for accounting when possible. */
  readonly account?: boolean;
  /** Named sandboxes, `exec --join`: the CLONE_NEW* flags joined instead of created. */
  readonly join?: { readonly flags: number };
}

/**
 * The sandbox's cgroups, when a facility made them (limits): the supervisor
 * clones into them, ends the sandbox whole with them, and waits for that end.
 */
export interface SandboxGroup {
  /** Every cgroup directory of the sandbox (named sandboxes record them). */
  readonly paths: readonly string[];
  /** Run the clone with the cgroup v2 fd for CLONE_INTO_CGROUP (fn(-1) without one). */
  spawn<T>(fn: (cgroupFd: number) => Promise<T | number>): Promise<T | number>;
  /** End every process in the cgroups. */
  kill(): void;
  /** Resolves once no kill is in flight (a v1 kill freezes the group: the init cannot be reaped before). */
  settled(): Promise<void>;
}

/** What the watchdogs need from the sandbox handle. */
export interface WatchTarget {
  /**
   * A limit ran out. graceful: SIGTERM the command and kill everything after
   * the kill-after grace; otherwise kill everything now.
   */
  limitReached(reason: Reason, graceful: boolean): void;
}

/** One sandbox's setup, as the hooks see it and contribute to it. */
export interface SetupContext {
  readonly shim: Shim;
  readonly io: StartIO;
  readonly host: Host;
  readonly options: SetupOptions;
  /** The Spec as it runs; prepare may replace it (the network binds its generated files into the view). */
  spec: Spec;
  /** The Spec resolved on this host (src/plan/resolve.ts); resolved again after prepare if it replaced the Spec. */
  resolved: Resolved;
  /** The namespaces that are new (with "auto" resolved for this host): resolved.namespaces. */
  readonly fresh: readonly Namespace[];
  /** prepare: the cgroup hierarchies the sandbox has a cgroup of its own in (its /sys/fs/cgroup shows them). */
  cgroupMounts: CgroupMount[];
  /** prepare: the cgroup file the init reads CPU usage from (with a CPU-time budget). */
  cpuCounter: CpuCounter | null;
  /** prepare: the sandbox's cgroups, if any. */
  group: SandboxGroup | null;
  /** The plan's ops, once compiled (after prepare). */
  ops: readonly Op[];
  /** beforeGo: fds that go with GO to the init (a mapped root's bind mounts); the supervisor closes them after. */
  readonly goFds: number[];
  /** beforeGo: the sandbox is not released; the run reports this failure (reason "setup", exit code 125). */
  refuse(failure: SetupFailure): void;
}

/** How the sandbox ended, for finish. */
export interface Ended {
  readonly records: readonly SandboxRecord[];
  readonly waited: Waited | null;
}

/** One facility's hooks for one sandbox (a fresh object per sandbox: it may hold that sandbox's state). */
export interface FacilityHooks {
  check?(ctx: SetupContext): void;
  prepare?(ctx: SetupContext): void;
  beforeGo?(ctx: SetupContext, child: Spawned): Promise<void> | undefined;
  started?(ctx: SetupContext): void;
  watch?(ctx: SetupContext, target: WatchTarget): void;
  finish?(ctx: SetupContext, result: Result, ended: Ended): Promise<Result> | Result;
  cleanup?(ctx: SetupContext): Promise<unknown> | undefined;
}

/** A facility's entry in the registry: a name (for messages and tests) and a factory of its hooks. */
export interface Facility {
  readonly name: string;
  readonly hooks: () => FacilityHooks;
}
