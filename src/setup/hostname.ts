import { type Op, op } from "../plan/op.ts";
import type { Spec } from "../spec/schema.ts";

export function hostnameOps(spec: Spec): Op[] {
  return spec.hostname === undefined ? [] : [op("hostname", { name: spec.hostname })];
}
