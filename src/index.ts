/**
 * isolate as a library: the same functions the CLI uses. It needs Bun (it
 * loads its C shim through bun:ffi); under Node the import fails with one line
 * saying so.
 *
 * @example
 * import { run, spawn } from "isolate";
 * const r = await run({ command: ["sh", "-c", "echo hi; exit 3"], hostname: "box" });
 * // r.exitCode 3, r.stdout "hi\n", r.reason "ok"
 *
 * @module
 */

/** Remove cgroups left by SIGKILLed isolate processes (`isolate clean`). */
export { type CleanReport, cleanLeftovers } from "./cgroup/clean.ts";
/** Validate and normalize a SpecInput (what run() and spawn() do first). */
export { parseSpec, type SpecDefaults } from "./config/parse.ts";
export { NAMESPACES, type Namespace, type Spec, type SpecInput } from "./config/schema.ts";
/** The errors isolate raises on purpose: `e.text()` is the one line the CLI prints. */
export { CgroupError, HostError, IsolateError, SpecError } from "./errors.ts";
export type { LimitsInput } from "./facilities/limits/fields.ts";
export type { CwdMount, Mount, MountInput } from "./facilities/view/fields.ts";
/** What this host and user can do (`isolate check`). */
export { type CheckItem, checkHost, type HostReport } from "./host/check.ts";
/** The host facts a plan depends on. */
export { type Host, probeHost } from "./host/probe.ts";
export {
  type EnteredProcess,
  type EnterOptions,
  type EnterResult,
  type LiveStats,
  list,
  type NamedHandle,
  type NamedOptions,
  open,
  type SandboxInfo,
  type StopOptions,
  spawnNamed,
} from "./named/api.ts";
/** A Spec's setup ops (`isolate plan`), in words, and as the bytes the init reads. */
export { compilePlan } from "./plan/compile.ts";
export { describeOp } from "./plan/describe.ts";
export { encodePlan } from "./plan/encode.ts";
export type { Op } from "./plan/op.ts";
/** A Spec resolved on a host, once: what compilePlan and the supervisor read. */
export { type Resolved, resolveSandbox } from "./plan/resolve.ts";
export type { InputSource, RunOptions, SpawnOptions } from "./supervisor/options.ts";
export type {
  FailedReason,
  LandlockReport,
  LimitsReport,
  Reason,
  Result,
  ResultBase,
  SetupFailure,
  Status,
} from "./supervisor/result.ts";
/** Run a sandbox to its end and collect its output. */
export { DEFAULT_MAX_OUTPUT, OUTPUT_BUDGET, type RunOutput, type RunResult, run, runSpec } from "./supervisor/run.ts";
/** Start a sandbox and get a handle: streams, kill(), exited, `await using`. */
export { type Sandbox, spawn, spawnSpec } from "./supervisor/sandbox.ts";
export type { StdinSink, StdioOption } from "./supervisor/stdio.ts";
