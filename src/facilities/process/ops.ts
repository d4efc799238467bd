/** The command's own process: session, keyring, working directory. */

import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";

export function processOps(r: Resolved): Op[] {
  return [
    // No controlling terminal: TIOCSTI cannot type into the caller's.
    op("setsid", {}),
    // Keys of the caller's session stay out of reach.
    op("keyring", {}),
    op("chdir", { dir: r.spec.cwd ?? r.host.cwd }),
  ];
}
