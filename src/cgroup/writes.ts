/**
 * What a limit becomes in cgroup files: the shared shape of the two pure
 * mapping tables (map-v1.ts, map-v2.ts) and the helpers both use.
 */
import type { LimitField, Limits } from "../facilities/limits/fields.ts";
import type { Controller } from "./detect.ts";

export interface CgroupWrite {
  readonly controller: Controller;
  /** The limit it enforces, named in every message about it. */
  readonly limit: LimitField;
  /** [file, value] choices: the first file that exists gets its value. */
  readonly files: readonly (readonly [file: string, value: string])[];
  /** Best effort: skipped when no file exists (e.g. "no extra swap" without swap accounting). */
  readonly optional?: boolean;
  /** v1 cpuset: copy the value of the parent cgroup's same file (an empty cpuset cannot hold tasks). */
  readonly inherit?: boolean;
}

/** The CFS period isolate uses, in microseconds (the kernel's default). */
export const CPU_PERIOD_US = 100_000;
/** The smallest quota the kernel accepts, in microseconds. */
export const CPU_MIN_QUOTA_US = 1000;

export function cpuQuotaUs(cpus: number): number {
  return Math.max(CPU_MIN_QUOTA_US, Math.round(cpus * CPU_PERIOD_US));
}

/** A v2 weight (1..10000, default 100) as v1 cpu.shares (2..262144), the conversion runc and crun use. */
export function weightToShares(weight: number): number {
  return Math.round(2 + ((weight - 1) * 262142) / 9999);
}

/** A v2 io weight as a BFQ weight (1..1000, default 100): equal up to 1000, capped above. */
export function ioWeightToBfq(weight: number): number {
  return Math.min(1000, Math.max(1, weight));
}

/** A v2 io weight as v1 CFQ blkio.weight (10..1000). */
export function ioWeightToBlkio(weight: number): number {
  return Math.min(1000, Math.max(10, weight));
}

/** Limits whose io devices are resolved to MAJ:MIN (the only non-pure input of the tables). */
export type ResolvedLimits = Limits;

/** Controllers a set of limits needs, each with the first limit that asks for it. */
export function controllersFor(l: Limits): Map<Controller, LimitField> {
  const need = new Map<Controller, LimitField>();
  const want = (c: Controller, f: LimitField, when: boolean) => {
    if (when && !need.has(c)) need.set(c, f);
  };
  want("memory", "memory", l.memory !== undefined);
  want("memory", "memorySwap", l.memorySwap !== undefined);
  want("cpu", "cpus", l.cpus !== undefined);
  want("cpu", "cpuWeight", l.cpuWeight !== undefined);
  want("cpuset", "cpuset", l.cpuset !== undefined);
  want("pids", "pids", l.pids !== undefined);
  want("io", "ioWeight", l.ioWeight !== undefined);
  want("io", "ioReadBps", l.ioReadBps.length > 0);
  want("io", "ioWriteBps", l.ioWriteBps.length > 0);
  want("cpuacct", "cpuTime", l.cpuTimeMs !== undefined);
  return need;
}
