/**
 * What `--net pasta` asks of pasta and of the sandbox's own netfilter, as
 * data: pasta's arguments, the nftables ruleset loaded into the sandbox's
 * network namespace before it runs anything, and the resolv.conf / hosts
 * files bound into its view. Pure: the hook (src/facilities/net/pasta.ts) runs them.
 */
import { type Allow, isIPv4, isIPv6, type Net } from "./fields.ts";

/**
 * The address the sandbox's resolv.conf names; pasta forwards UDP port 53 there
 * to the host's resolver: the first nameserver of the /etc/resolv.conf pasta
 * reads (this pasta forwards to no other: given -D, it forwards to 0.0.0.0).
 */
export const DNS_FORWARD = "169.254.0.53";
/** The netfilter table isolate loads into the sandbox's namespace, and its counter of refused connections. */
export const NFT_TABLE = "isolate";
export const NFT_COUNTER = "refused";

/**
 * pasta's options (without how it finds the namespace): foreground, quiet,
 * addresses and routes set up, its DNS forwarder. No -D: it would stop pasta
 * from reading the host's resolver, and its forwarder would have none.
 */
export function pastaArgs(net: Net): string[] {
  const a = ["-f", "-q", "--config-net", "-T", "none", "-U", "none", "--dns-forward", DNS_FORWARD];
  if (!net.hostLoopback) a.push("--no-map-gw");
  for (const g of net.gateway) a.push("-g", g);
  const tcp = net.publish.filter((p) => p.proto === "tcp");
  const udp = net.publish.filter((p) => p.proto === "udp");
  const spec = (p: (typeof net.publish)[number]) =>
    `${p.hostIp === undefined ? "" : `${p.hostIp}/`}${p.hostPort}:${p.port}`;
  if (tcp.length === 0) a.push("-t", "none");
  for (const p of tcp) a.push("-t", spec(p));
  if (udp.length === 0) a.push("-u", "none");
  for (const p of udp) a.push("-u", spec(p));
  return a;
}

export interface RuleInputs {
  readonly net: Net;
  /** Every address the host holds (any interface), as the sandbox must not reach them through pasta. */
  readonly hostAddresses: readonly string[];
  /** The gateway addresses the sandbox uses (given, or the host's), opened by --net-host-loopback. */
  readonly gateways: readonly string[];
  /** --net-allow with names resolved: each destination address, with its port when one was given. */
  readonly allowed: readonly { readonly address: string; readonly port: number | undefined }[];
}

const set4 = (xs: readonly string[]) => `{ ${xs.join(", ")} }`;

/** Refuse: TCP with a reset (ECONNREFUSED at once), the rest with an ICMP error (never a silent drop). */
function refuse(match: string): string[] {
  return [
    `    ${match} meta l4proto tcp counter name "${NFT_COUNTER}" reject with tcp reset`,
    `    ${match} counter name "${NFT_COUNTER}" reject with icmpx type admin-prohibited`,
  ];
}

/**
 * The ruleset: an output filter in the sandbox's own namespace (its
 * processes hold no capability, so they cannot change it). Loopback and
 * replies pass; the host's own addresses and link-local ranges are refused
 * (pasta would connect to them on the sandbox's behalf), unless they are the
 * gateway and --net-host-loopback asked for it; with an allowlist everything
 * not on it is refused, DNS included (names come from the generated hosts file).
 */
export function nftRuleset(r: RuleInputs): string {
  const { net } = r;
  const v4 = (xs: readonly string[]) => xs.filter(isIPv4);
  const v6 = (xs: readonly string[]) => xs.filter(isIPv6);
  const lines = [
    `table inet ${NFT_TABLE} {`,
    `  counter ${NFT_COUNTER} { }`,
    "  chain output {",
    "    type filter hook output priority filter; policy accept;",
    '    oifname "lo" accept',
    "    ct state established,related accept",
    "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept",
  ];
  if (net.hostLoopback) {
    if (v4(r.gateways).length > 0) lines.push(`    ip daddr ${set4(v4(r.gateways))} accept`);
    if (v6(r.gateways).length > 0) lines.push(`    ip6 daddr ${set4(v6(r.gateways))} accept`);
  }
  if (net.allow.length === 0) lines.push(`    ip daddr ${DNS_FORWARD} udp dport 53 accept`);
  const host4 = [...new Set([...v4(r.hostAddresses), "169.254.0.0/16"])];
  const host6 = [...new Set([...v6(r.hostAddresses), "fe80::/10"])];
  lines.push(...refuse(`ip daddr ${set4(host4)}`), ...refuse(`ip6 daddr ${set4(host6)}`));
  if (net.allow.length > 0) {
    for (const a of r.allowed) {
      const fam = isIPv4(a.address) ? "ip" : "ip6";
      const port = a.port === undefined ? "" : ` meta l4proto { tcp, udp } th dport ${a.port}`;
      lines.push(`    ${fam} daddr ${a.address}${port} accept`);
    }
    lines.push(...refuse("meta nfproto { ipv4, ipv6 }"));
  }
  lines.push("  }", "}", "");
  return lines.join("\n");
}

/**
 * The sandbox's /etc/resolv.conf: pasta's forwarder, or the --net-dns servers
 * (asked directly, through pasta like any other destination). Under an
 * allowlist the rules refuse both: names come from the hosts file.
 */
export function resolvConf(dns: readonly string[] = [], hostResolvers: readonly string[] = []): string {
  const head =
    dns.length > 0
      ? "# written by isolate for --net pasta --net-dns"
      : "# written by isolate for --net pasta: pasta forwards DNS from here to the host's resolver";
  // pasta gives every answer from the host's resolver (its first IPv4 and IPv6 nameserver) the
  // forwarder's address: that one is asked through the forwarder, or the answers would be dropped.
  const upstream = [hostResolvers.find(isIPv4), hostResolvers.find(isIPv6)];
  const via = (d: string) => (upstream.includes(d) ? DNS_FORWARD : d);
  const servers = [...new Set(dns.length > 0 ? dns.map(via) : [DNS_FORWARD])].map((d) => `nameserver ${d}`);
  return `${[head, ...servers, "options attempts:2 timeout:2"].join("\n")}\n`;
}

/** The nameserver addresses of a resolv.conf, in order (what pasta reads as the host's resolvers). */
export function nameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*nameserver\s+([^\s%]+)/);
    if (m?.[1] && (isIPv4(m[1]) || isIPv6(m[1]))) out.push(m[1]);
  }
  return out;
}

/** The sandbox's /etc/hosts under an allowlist: the allowed names with the addresses they had at start. */
export function hostsFile(
  hostname: string | undefined,
  names: readonly { name: string; addresses: string[] }[],
): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  if (hostname) lines.push(`127.0.1.1\t${hostname}`);
  for (const n of names) for (const a of n.addresses) lines.push(`${a}\t${n.name}`);
  return `${lines.join("\n")}\n`;
}

/** The names among the allowlist (addresses need no lookup). */
export function allowNames(allow: readonly Allow[]): string[] {
  return [...new Set(allow.filter((a) => !isIPv4(a.host) && !isIPv6(a.host)).map((a) => a.host))];
}

/** Default gateways from /proc/net/route and /proc/net/ipv6_route. */
export function defaultGateways(route: string, route6: string): string[] {
  const out: string[] = [];
  for (const line of route.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== "00000000" || !f[2] || f[2] === "00000000") continue;
    const n = Number.parseInt(f[2], 16);
    out.push([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join("."));
  }
  for (const line of route6.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== "00000000000000000000000000000000" || f[1] !== "00") continue;
    const g = f[4] ?? "";
    if (/^0+$/.test(g) || g.length !== 32) continue;
    out.push((g.match(/.{4}/g) ?? []).join(":").replace(/(^|:)0{1,3}/g, "$1"));
  }
  return [...new Set(out)];
}
