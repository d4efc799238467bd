import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";

/** A new network namespace has only loopback, and it starts down. */
export function networkOps(r: Resolved): Op[] {
  return r.namespaces.includes("net") ? [op("loopbackUp", {})] : [];
}
