/** Which namespaces are new, and the ops that create them. */

import { NAMESPACES, type Namespace, type Spec } from "../../config/schema.ts";
import { HostError, field as specField } from "../../errors.ts";
import type { Host } from "../../host/probe.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";

export const CLONE_FLAG: Record<Namespace, number> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

/** Created at clone; the rest are unshared by the init once it is placed in its cgroup. */
const AT_CLONE: readonly Namespace[] = ["user", "pid", "mount", "uts", "ipc", "net"];

/**
 * Whether "auto" makes a new user namespace: always without root (it is what
 * makes the other namespaces possible); as root in the initial user
 * namespace too, so that root inside is not host root (src/facilities/identity/ops.ts
 * maps it to an unprivileged range), except with --user, which names the
 * host identity itself. Root of any other user namespace is not host root
 * already; it makes one only for --allow-nested, where the command must not
 * stay uid 0 (it could nest nothing: src/facilities/identity/ops.ts, NESTED_ID).
 */
export function autoUserNs(spec: Spec, host: Host): boolean {
  return !host.root || (spec.user === undefined && (host.initialUserNs || spec.allowNested));
}

/**
 * The namespaces that will be new, with "auto" resolved for this host.
 * Called once, by resolveSandbox (src/plan/resolve.ts): everything else reads
 * `Resolved.namespaces`.
 */
export function newNamespaces(spec: Spec, host: Host): Namespace[] {
  return NAMESPACES.filter((ns) => {
    const want = spec.namespaces[ns];
    return want === "auto" ? autoUserNs(spec, host) : want;
  });
}

/** Without root, new namespaces need a new user namespace. */
export function checkNamespaces(host: Host, fresh: readonly Namespace[]): void {
  if (!host.root && !fresh.includes("user") && fresh.length > 0) {
    throw new HostError(
      `${specField("share", "user")}: creating ${fresh.join(", ")} namespaces without root needs a new user namespace`,
      `drop ${specField("share", "user")}, or run as root`,
    );
  }
}

export function namespaceOps(r: Resolved): Op[] {
  const fresh = r.namespaces;
  const at = (list: readonly Namespace[]) =>
    fresh.filter((ns) => list.includes(ns)).reduce((flags, ns) => flags | CLONE_FLAG[ns], 0);
  const ops: Op[] = [op("clone", { flags: at(AT_CLONE) })];
  // Propagation is per mount namespace: only ever touch a new one.
  if (fresh.includes("mount")) ops.push(op("mountPrivate", {}));
  const late = fresh.filter((ns) => !AT_CLONE.includes(ns));
  if (late.length > 0) ops.push(op("unshare", { flags: at(late) }));
  return ops;
}
