/** isolate as a library: the same functions the CLI uses. */
export { type CleanReport, cleanLeftovers } from "./cgroup/clean.ts";
export { CgroupError, HostError, IsolateError, SpecError } from "./errors.ts";
export { type CheckItem, checkHost, type HostReport } from "./host/check.ts";
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
export { compilePlan } from "./plan/compile.ts";
export { describeOp } from "./plan/describe.ts";
export { encodePlan } from "./plan/encode.ts";
export type { Op } from "./plan/op.ts";
export type { LimitsInput } from "./spec/limits.ts";
export type { CwdMount, Mount, MountInput } from "./spec/mounts.ts";
export { parseSpec } from "./spec/parse.ts";
export { NAMESPACES, type Namespace, type Spec, type SpecInput } from "./spec/schema.ts";
export type { LandlockReport, LimitsReport, Reason, Result, SetupFailure, Status } from "./supervisor/result.ts";
export { type RunOptions, type RunResult, run, runSpec } from "./supervisor/run.ts";
export { type Sandbox, type SpawnOptions, spawn, spawnSpec } from "./supervisor/sandbox.ts";
export type { StdinSink, StdioOption } from "./supervisor/stdio.ts";
