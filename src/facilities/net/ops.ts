import type { Spec } from "../../config/schema.ts";
import type { Host } from "../../host/probe.ts";
import { type Op, op } from "../../plan/op.ts";
import { newNamespaces } from "../namespaces/ops.ts";

/** A new network namespace has only loopback, and it starts down. */
export function networkOps(spec: Spec, host: Host): Op[] {
  return newNamespaces(spec, host).includes("net") ? [op("loopbackUp", {})] : [];
}
