/** The seccomp facility (its field is part of the Hardening fields: src/facilities/privileges/fields.ts): the filter. */
import type { Facility } from "../facility.ts";
import { seccompOps } from "./ops.ts";

export const seccomp = {
  name: "seccomp" as const,
  plan: ({ resolved }) => ({ seccomp: seccompOps(resolved.spec) }),
  describe: { seccomp: (o) => `seccomp filter (${o.args.filter.length / 8} instructions)` },
} satisfies Facility;
