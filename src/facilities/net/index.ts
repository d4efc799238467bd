/** The network facility: its fields, loopback, pasta's supervisor hooks, and pasta's helpers in `isolate check`. */
import type { Facility } from "../facility.ts";
import { NET_FIELDS, normalizeNet } from "./fields.ts";
import { netHooks } from "./hooks.ts";
import { networkOps } from "./ops.ts";
import { pastaNeeds } from "./pasta.ts";

export const net = {
  name: "net" as const,
  fields: {
    entries: NET_FIELDS,
    normalize(p, { namespaces }) {
      const n = normalizeNet(p.net, namespaces.net === false, namespaces.mount === true);
      return Array.isArray(n) ? n : { net: n };
    },
  },
  plan: ({ resolved }) => ({ network: networkOps(resolved) }),
  hooks: netHooks,
  describe: { loopbackUp: () => "bring loopback up" },
  check: ({ host }) => pastaNeeds(host.root).map((n) => ({ ...n, required: false })),
} satisfies Facility<typeof NET_FIELDS>;
