/**
 * A Spec resolved against the host, once: everything downstream (the plan
 * compiler, every facility's ops, the supervisor, named sandboxes, `isolate
 * plan`) reads this object and derives nothing again.
 *
 * Resolving reads what the plan depends on from the host's files: /etc/subuid,
 * /etc/subgid and /etc/passwd for the identity, the capability sets for
 * --cap-add, and the view's sources (lstat, realpath, the credential stores
 * to mask). It creates and loads nothing (`isolate plan` resolves too), and
 * it rejects a Spec this host cannot run before anything is made.
 * compilePlan (src/plan/compile.ts) then reads no files.
 */

import type { Namespace, Spec } from "../config/schema.ts";
import { type IdentityPlan, identityPlan, type SubIdSource } from "../facilities/identity/ops.ts";
import { checkNesting } from "../facilities/namespaces/nesting.ts";
import { checkNamespaces, newNamespaces } from "../facilities/namespaces/ops.ts";
import { keptCaps } from "../facilities/privileges/ops.ts";
import { commandEnv } from "../facilities/process/exec.ts";
import { type ResolvedView, resolveView } from "../facilities/view/ops.ts";
import type { Host } from "../host/probe.ts";

export interface Resolved {
  readonly spec: Spec;
  readonly host: Host;
  /** The namespaces that are new ("auto" decided for this host). */
  readonly namespaces: readonly Namespace[];
  /** Who the command runs as, and the maps of its new user namespace. */
  readonly identity: IdentityPlan;
  /** The capabilities the command keeps (a mask). */
  readonly caps: bigint;
  /** The command's environment (names and values are OS strings: src/host/bytes.ts). */
  readonly env: ReadonlyMap<string, string>;
  /** The filesystem view as the host's files make it; undefined without a new mount namespace. */
  readonly view: ResolvedView | undefined;
}

/** Where resolving reads the host's subordinate ids (tests give their own). */
export interface ResolveSources {
  readonly subids?: SubIdSource;
  /** isolate's own capability bounding set (default: read from /proc/self/status when needed). */
  readonly bounding?: bigint;
}

/**
 * Resolve a Spec on a host: throws (a SpecError or HostError) where this host
 * cannot run it.
 *
 * @example
 * const r = resolveSandbox(parseSpec({ command: ["true"] }), probeHost());
 * const ops = compilePlan(r);
 */
export function resolveSandbox(spec: Spec, host: Host, sources: ResolveSources = {}): Resolved {
  const namespaces = newNamespaces(spec, host);
  const identity = identityPlan(spec, host, namespaces, sources.subids);
  const caps = keptCaps({ spec, host, namespaces }, sources.bounding);
  checkNesting(spec, host, identity, caps);
  checkNamespaces(host, namespaces);
  const view = resolveView(spec, host, namespaces, identity.mappedRoot);
  return { spec, host, namespaces, identity, caps, env: commandEnv(spec, host), view };
}
