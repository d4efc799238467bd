/**
 * The facilities with supervisor hooks (src/supervisor/hooks.ts), in the order
 * the supervisor runs each phase: identity's maps before the cgroups'
 * placement before the network (pasta joins the mapped namespace, last before
 * GO); the view's scratch directories after the network has added its binds.
 * Cleanup runs in the reverse order.
 */

import type { Facility } from "../supervisor/hooks.ts";
import { identityHooks } from "./identity/hooks.ts";
import { landlockHooks } from "./landlock/hooks.ts";
import { limitsHooks } from "./limits/hooks.ts";
import { netHooks } from "./net/hooks.ts";
import { viewHooks } from "./view/hooks.ts";

export const FACILITIES: readonly Facility[] = [
  { name: "identity", hooks: identityHooks },
  { name: "limits", hooks: limitsHooks },
  { name: "net", hooks: netHooks },
  { name: "view", hooks: viewHooks },
  { name: "landlock", hooks: landlockHooks },
];
