/** The command's own process: session, keyring, working directory. */

import type { Spec } from "../../config/schema.ts";
import type { Host } from "../../host/probe.ts";
import { type Op, op } from "../../plan/op.ts";

export function processOps(spec: Spec, host: Host): Op[] {
  return [
    // No controlling terminal: TIOCSTI cannot type into the caller's.
    op("setsid", {}),
    // Keys of the caller's session stay out of reach.
    op("keyring", {}),
    op("chdir", { dir: spec.cwd ?? host.cwd }),
  ];
}
