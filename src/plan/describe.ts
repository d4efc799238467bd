/**
 * Ops in words: for `isolate plan` and for naming the op that failed. Each
 * facility describes its own ops (src/facilities/<name>/index.ts, describe);
 * test/plan/registry.test.ts checks that every op has exactly one.
 */
import type { Describers, Facility } from "../facilities/facility.ts";
import { FACILITIES } from "../facilities/index.ts";
import type { Op } from "./op.ts";

const byOp = new Map<string, (o: Op) => string>();

/** The describer of each op, from a list of facilities (tests give their own). */
export function describers(facilities: readonly Facility[]): Map<string, (o: Op) => string> {
  const out = new Map<string, (o: Op) => string>();
  for (const f of facilities) {
    for (const [name, fn] of Object.entries(f.describe ?? ({} as Describers))) out.set(name, fn as (o: Op) => string);
  }
  return out;
}

/**
 * One op in words, as `isolate plan` and setup errors print it.
 *
 * @example
 * describeOp({ op: "hostname", args: { name: "box" } }); // 'hostname "box"'
 */
export function describeOp(o: Op): string {
  if (byOp.size === 0) for (const [k, fn] of describers(FACILITIES)) byOp.set(k, fn);
  const fn = byOp.get(o.op);
  return fn ? fn(o) : o.op;
}
