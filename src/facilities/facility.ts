/**
 * What a facility is: one folder under src/facilities/ whose index.ts exports
 * one Facility object bundling what it has, and src/facilities/index.ts lists
 * them in order. The Spec's schema and normalization (src/config/schema.ts),
 * the plan (src/plan/compile.ts), the ops in words (src/plan/describe.ts),
 * `isolate check` (src/host/check.ts) and the supervisor
 * (src/supervisor/sandbox.ts) iterate that list; none of them names a
 * facility. Flags are the CLI's words: src/cli/facility-flags.ts keeps them,
 * keyed by the same names (the library never loads CLI code).
 *
 * The list's order is every iteration's: the Spec's fields (and which of two
 * bad fields is reported), the supervisor's hooks (cleanup in reverse), the
 * checks. The plan's order is not the list's: each facility puts its ops in
 * named slots (PLAN_SLOTS), in the phase order the C decoder checks.
 */
import type * as v from "valibot";
import type { CpuCounter } from "../cgroup/v1.ts";
import type { Namespace, Spec } from "../config/schema.ts";
import type { CgroupLayout } from "../host/cgroup-layout.ts";
import type { CheckItem } from "../host/check.ts";
import type { Host } from "../host/probe.ts";
import type { Op } from "../plan/op.ts";
import type { OpName } from "../plan/ops.ts";
import type { Resolved } from "../plan/resolve.ts";
import type { ShimProbes } from "../shim/load.ts";
import type { FacilityHooks } from "../supervisor/hooks.ts";
import type { CgroupMount } from "./view/ops.ts";

/**
 * The plan's slots, in order: spawn, then sandbox-wide (pid 1: the init's own
 * limits first), then the command's process. A facility's ops go in its slots;
 * ops of one slot from several facilities keep the registry's order.
 */
export const PLAN_SLOTS = [
  // spawn, then sandbox-wide (pid 1)
  "spawn",
  "initLimits",
  "unshare",
  "initIdentity",
  "view",
  "ptyOpen",
  "hostname",
  "network",
  "initPrivileges",
  // the command's process
  "process",
  "ptyAttach",
  "limits",
  "noNewPrivs",
  "landlock",
  "privileges",
  "seccomp",
  "exec",
] as const;
export type PlanSlot = (typeof PLAN_SLOTS)[number];

/** What a facility's plan contribution reads. */
export interface PlanContext {
  readonly resolved: Resolved;
  /** The hierarchies the sandbox has cgroups of its own in (its /sys/fs/cgroup shows them). */
  readonly cgroups: readonly CgroupMount[];
  /** The sandbox's cgroup CPU counter, when a CPU-time budget has one. */
  readonly cpuCounter: CpuCounter | null;
}

/**
 * A facility's ops in one slot: the ops, or a function making them from other
 * slots' ops (called once every facility has given its ops: Landlock's rules
 * come from the view's).
 */
export type SlotOps = readonly Op[] | ((slot: (name: PlanSlot) => readonly Op[]) => readonly Op[]);

/** The input a facility's fields are parsed into (valibot's output: the facility reads its own fields). */
// biome-ignore lint/suspicious/noExplicitAny: each facility reads its own fields of the parsed input
export type ParsedInput = Record<string, any> & {
  readonly share: readonly Namespace[];
  readonly unshare: readonly Namespace[];
};

/** What normalizing reads and may change besides the facility's own fields. */
export interface NormalizeContext {
  /** The namespaces so far (a facility may need one: hardening's user namespace). */
  readonly namespaces: Record<Namespace, boolean | "auto">;
  /** The caller's default for the working directory's mount (the library's "ro", the CLI's "rw"). */
  readonly cwdMount: "rw" | "ro" | "none";
}

/** A problem with the Spec: the field (a dotted path) and what is wrong. */
export type FieldProblem = [field: string, message: string];

/** A facility's Spec fields: its piece of the schema and how it becomes its part of the Spec. */
export interface FacilityFields<E extends v.ObjectEntries = v.ObjectEntries> {
  readonly entries: E;
  /** Its part of the Spec (merged in registry order), or the first problem. */
  normalize(p: ParsedInput, ctx: NormalizeContext): object | FieldProblem;
  /** Rules across facilities, once every part is there (the view needs a new mount namespace). */
  validate?(p: ParsedInput, spec: Spec & Record<string, unknown>): FieldProblem | undefined;
  /** Its part of the Spec goes before the core fields (the Spec extends Hardening: its fields lead). */
  readonly lead?: boolean;
}

/** What a facility's host check reads. */
export interface CheckContext {
  readonly host: Host;
  readonly shim: ShimProbes;
  readonly layout: CgroupLayout;
  /** The user's name, if it has one. */
  readonly userName: string | null;
}

/** One op in words (`isolate plan`, and the op a setup error names). */
export type Describers = { readonly [K in OpName]?: (o: Extract<Op, { op: K }>) => string };

export interface Facility<E extends v.ObjectEntries = v.ObjectEntries> {
  /** The folder's name (src/facilities/<name>/). */
  readonly name: string;
  readonly fields?: FacilityFields<E>;
  /** Its ops, by slot. */
  readonly plan?: (ctx: PlanContext) => Partial<Record<PlanSlot, SlotOps>>;
  /** A factory of its supervisor hooks (src/supervisor/hooks.ts): a fresh object per sandbox. */
  readonly hooks?: () => FacilityHooks;
  /** Its ops in words. */
  readonly describe?: Describers;
  /** What `isolate check` reports for it. */
  readonly check?: (ctx: CheckContext) => readonly CheckItem[];
}
