/** The hostname facility (the hostname is a core Spec field): its op. */
import { quoteOs } from "../../host/bytes.ts";
import type { Facility } from "../facility.ts";
import { hostnameOps } from "./ops.ts";

export const hostname = {
  name: "hostname" as const,
  plan: ({ resolved }) => ({ hostname: hostnameOps(resolved.spec) }),
  describe: { hostname: (o) => `hostname ${quoteOs(o.args.name)}` },
} satisfies Facility;
