import type { Host } from "../host/probe.ts";
import { type Op, op } from "../plan/op.ts";
import type { Spec } from "../spec/schema.ts";
import { newNamespaces } from "./namespaces.ts";

/** A new network namespace has only loopback, and it starts down. */
export function networkOps(spec: Spec, host: Host): Op[] {
  return newNamespaces(spec, host).includes("net") ? [op("loopbackUp", {})] : [];
}
