/**
 * The Spec's network fields (src/facilities/net/ carries them out):
 *   mode          "none" (default: a new namespace, loopback only), "host" (the host's
 *                 namespace, as share: ["net"]) or "pasta" (a new namespace connected
 *                 through pasta: outbound TCP/UDP, DNS through pasta's forwarder)
 *   hostLoopback  pasta only: the gateway address reaches the host's loopback
 *   publish       pasta only: "[IP:]HOSTPORT:PORT[/tcp|/udp]", the host reaches PORT inside
 *   allow         pasta only: "HOST[:PORT]" (a name or an address), the only destinations
 *   dns           pasta only: resolvers the sandbox asks directly (default: pasta's forwarder, which asks the host's)
 *   gateway       pasta only: the gateway address(es) the sandbox sees (default: the host's)
 */
import * as v from "valibot";

export const NET_MODES = ["none", "host", "pasta"] as const;
export type NetMode = (typeof NET_MODES)[number];

export interface Publish {
  /** The host address pasta binds (undefined: every address). */
  readonly hostIp: string | undefined;
  readonly hostPort: number;
  readonly port: number;
  readonly proto: "tcp" | "udp";
}

export interface Allow {
  /** A name (resolved once, before the sandbox starts) or an address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number | undefined;
}

export interface Net {
  readonly mode: NetMode;
  readonly hostLoopback: boolean;
  readonly publish: readonly Publish[];
  readonly allow: readonly Allow[];
  readonly dns: readonly string[];
  readonly gateway: readonly string[];
}

export const NO_NET: Net = { mode: "none", hostLoopback: false, publish: [], allow: [], dns: [], gateway: [] };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** An IPv6 address (no brackets, no zone), as the URL parser accepts it. */
export function isIPv6(s: string): boolean {
  if (!s.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

export const isIP = (s: string) => isIPv4(s) || isIPv6(s);

const NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

function port(s: string, what: string): number | string {
  if (!/^\d{1,5}$/.test(s)) return `${what} "${s}" is not a port number (1-65535)`;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : `${what} ${n} is not a port number (1-65535)`;
}

/** Split "[v6]:rest", "v4:rest" into [address, rest]; undefined when there is no address part. */
function splitAddress(s: string): [string, string] | string | undefined {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0 || s[end + 1] !== ":") return `"${s}": expected [IPv6]:PORT`;
    return [s.slice(1, end), s.slice(end + 2)];
  }
  const parts = s.split(":");
  if (parts.length === 3) return [parts[0] ?? "", `${parts[1]}:${parts[2]}`];
  return undefined;
}

/** "[IP:]HOSTPORT:PORT[/tcp|/udp]" */
export function parsePublish(s: string): Publish | string {
  let rest = s;
  let proto: "tcp" | "udp" = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== "tcp" && p !== "udp") return `"${s}": the protocol must be tcp or udp`;
    proto = p;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const split = splitAddress(rest);
  if (typeof split === "string") return split;
  if (split) {
    [hostIp, rest] = split;
    if (!isIP(hostIp)) return `"${s}": "${hostIp}" is not an IP address`;
  }
  const ports = rest.split(":");
  if (ports.length !== 2) return `"${s}": expected [IP:]HOSTPORT:PORT[/tcp|/udp]`;
  const hostPort = port(ports[0] ?? "", "host port");
  if (typeof hostPort === "string") return hostPort;
  const inner = port(ports[1] ?? "", "port");
  if (typeof inner === "string") return inner;
  return { hostIp, hostPort, port: inner, proto };
}

/** "HOST[:PORT]": a name, an IPv4 address, an IPv6 address (bracketed when a port follows). */
export function parseAllow(s: string): Allow | string {
  let host = s;
  let p: string | undefined;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) return `"${s}": unclosed [`;
    host = s.slice(1, end);
    const after = s.slice(end + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return `"${s}": expected [IPv6]:PORT`;
      p = after.slice(1);
    }
    if (!isIPv6(host)) return `"${host}" is not an IPv6 address`;
  } else if ((s.match(/:/g) ?? []).length === 1) {
    const i = s.indexOf(":");
    host = s.slice(0, i);
    p = s.slice(i + 1);
  }
  if (!isIP(host) && !NAME.test(host)) return `"${host}" is neither a host name nor an IP address`;
  if (p === undefined) return { host, port: undefined };
  const n = port(p, "port");
  return typeof n === "string" ? n : { host, port: n };
}

const parsed = <T>(parse: (s: string) => T | string) =>
  v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const r = parse(dataset.value);
      if (typeof r === "string") {
        addIssue({ message: r });
        return NEVER;
      }
      return r;
    }),
  );

const Address = v.pipe(
  v.string(),
  v.check((s) => isIP(s), "must be an IPv4 or IPv6 address"),
);

const NetInput = v.strictObject({
  mode: v.optional(v.picklist(NET_MODES, `use ${NET_MODES.join(", ")}`)),
  hostLoopback: v.optional(v.boolean(), false),
  publish: v.optional(v.array(parsed(parsePublish)), []),
  allow: v.optional(v.array(parsed(parseAllow)), []),
  dns: v.optional(v.array(Address), []),
  gateway: v.optional(v.array(Address), []),
});

/** Spread into SpecInputSchema's entries. */
export const NET_FIELDS = {
  /** The network: none (default), host, or pasta with its options. */
  net: v.optional(NetInput),
} as const;

type NetParsed = v.InferOutput<typeof NetInput>;

/**
 * The network, given whether the net namespace is new (after share/unshare).
 * Returns the Net and whether the net namespace must be new, or [field, message].
 */
export function normalizeNet(
  p: NetParsed | undefined,
  sharedNet: boolean,
  newMount: boolean,
): Net | [field: string, message: string] {
  if (p === undefined) return { ...NO_NET, mode: sharedNet ? "host" : "none" };
  const mode = p.mode ?? (sharedNet ? "host" : "none");
  if (mode === "none" && sharedNet) return ["net.mode", `"none" contradicts sharing the host's net namespace`];
  if (mode === "pasta") {
    if (sharedNet) return ["net.mode", `"pasta" needs a new net namespace (do not share net)`];
    if (!newMount) {
      return ["net.mode", `"pasta" needs a new mount namespace for the sandbox's own /etc/resolv.conf`];
    }
    const fams = (xs: readonly string[]) => [xs.filter(isIPv4).length, xs.filter(isIPv6).length];
    const [g4 = 0, g6 = 0] = fams(p.gateway);
    if (g4 > 1 || g6 > 1) return ["net.gateway", "at most one gateway per address family"];
    const seen = new Set<string>();
    for (const x of p.publish) {
      const key = `${x.hostIp ?? "*"}:${x.hostPort}/${x.proto}`;
      if (seen.has(key)) return ["net.publish", `host port ${x.hostPort}/${x.proto} is published twice`];
      seen.add(key);
    }
  } else {
    const extra = (
      [
        ["hostLoopback", p.hostLoopback],
        ["publish", p.publish.length > 0],
        ["allow", p.allow.length > 0],
        ["dns", p.dns.length > 0],
        ["gateway", p.gateway.length > 0],
      ] as const
    ).find(([, set]) => set);
    if (extra) return [`net.${extra[0]}`, `needs the network mode "pasta"`];
  }
  return {
    mode,
    hostLoopback: p.hostLoopback,
    publish: p.publish,
    allow: p.allow,
    dns: p.dns,
    gateway: p.gateway,
  };
}
