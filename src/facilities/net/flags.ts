/** The network flags of `isolate exec` and `isolate plan`; they fill Spec.net (src/facilities/net/fields.ts). */

import type { Draft, FlagDef } from "../../cli/flags.ts";
import type { NetMode } from "./fields.ts";

type NetDraft = {
  mode?: NetMode;
  hostLoopback?: boolean;
  publish?: string[];
  allow?: string[];
  dns?: string[];
  gateway?: string[];
};

function net(d: Draft): NetDraft {
  const n: NetDraft = { ...((d.net as NetDraft | undefined) ?? {}) };
  d.net = n as Draft["net"];
  return n;
}

const many = (
  name: string,
  key: "publish" | "allow" | "dns" | "gateway",
  value: string,
  description: string,
): FlagDef => ({
  name,
  value,
  field: `net.${key}`,
  description,
  apply: (d, _c, v) => {
    const n = net(d);
    n[key] = [...(n[key] ?? []), v];
  },
});

export const NET_FLAGS: readonly FlagDef[] = [
  {
    name: "--net",
    value: "none|host|pasta",
    field: "net.mode",
    description:
      "network: none (default: loopback only), host (the host's, as --share net), pasta (own namespace, outbound through pasta)",
    apply: (d, _c, v) => {
      net(d).mode = v as NetMode;
    },
  },
  {
    name: "--net-host-loopback",
    field: "net.hostLoopback",
    description: "with --net pasta: the gateway address reaches services on the host's loopback",
    apply: (d) => {
      net(d).hostLoopback = true;
    },
  },
  many(
    "--publish",
    "publish",
    "[IP:]HOSTPORT:PORT[/tcp|/udp]",
    "with --net pasta: the host's HOSTPORT reaches PORT in the sandbox (repeatable)",
  ),
  many(
    "--net-allow",
    "allow",
    "HOST[:PORT]",
    "with --net pasta: only these destinations (names or addresses) are reachable; names only resolve for them (repeatable)",
  ),
  many(
    "--net-dns",
    "dns",
    "ADDR",
    "with --net pasta: a resolver the sandbox asks directly instead of pasta's forwarder (which asks the host's; repeatable)",
  ),
  many(
    "--net-gateway",
    "gateway",
    "ADDR",
    "with --net pasta: the gateway address the sandbox sees (default: the host's; one per address family)",
  ),
];
