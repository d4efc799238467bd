import type { Spec } from "../../config/schema.ts";
import { type Op, op } from "../../plan/op.ts";

export function hostnameOps(spec: Spec): Op[] {
  return spec.hostname === undefined ? [] : [op("hostname", { name: spec.hostname })];
}
