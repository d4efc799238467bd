/**
 * THE registry: every facility (src/facilities/<name>/index.ts), in order.
 * The Spec's fields (src/config/schema.ts), the ops in words, `isolate check`
 * and the supervisor go through it in this order; the plan puts each
 * facility's ops in its slots (src/facilities/facility.ts PLAN_SLOTS). The
 * CLI's flags are keyed by these names (src/cli/facility-flags.ts).
 *
 * The order, where it matters:
 *  - the Spec: the privileges' (Hardening) fields lead, then the core fields
 *    (command, namespaces, hostname, env, cwd, killAfter), then landlock,
 *    the view, the limits, the network, the pty (`isolate plan --json` prints
 *    them so);
 *  - the supervisor: identity's maps before the cgroups' placement before the
 *    network (pasta joins the mapped namespace, last before GO); the view's
 *    scratch directories and Landlock's report do not depend on the others.
 *    Cleanup runs in the reverse order.
 */
import type { Facility } from "./facility.ts";
import { hostname } from "./hostname/index.ts";
import { identity } from "./identity/index.ts";
import { landlock } from "./landlock/index.ts";
import { limits } from "./limits/index.ts";
import { namespaces } from "./namespaces/index.ts";
import { net } from "./net/index.ts";
import { privileges } from "./privileges/index.ts";
import { processFacility } from "./process/index.ts";
import { pty } from "./pty/index.ts";
import { seccomp } from "./seccomp/index.ts";
import { view } from "./view/index.ts";

/** Every facility, in order (the tuple type gives the Spec's schema its fields). */
export const FACILITY_LIST = [
  namespaces,
  identity,
  privileges,
  landlock,
  view,
  limits,
  net,
  pty,
  hostname,
  processFacility,
  seccomp,
] as const;

export const FACILITIES: readonly Facility[] = FACILITY_LIST;

export type FacilityName = (typeof FACILITY_LIST)[number]["name"];
