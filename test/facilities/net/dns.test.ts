/** The sandbox's resolv.conf under --net pasta (src/facilities/net/rules.ts): pure. */
import { describe, expect, test } from "bun:test";
import { NO_NET } from "../../../src/facilities/net/fields.ts";
import { DNS_FORWARD, nameservers, pastaArgs, resolvConf } from "../../../src/facilities/net/rules.ts";

const servers = (text: string) => text.split("\n").filter((l) => l.startsWith("nameserver "));

describe("resolv.conf for --net pasta", () => {
  test("by default: pasta's forwarder only", () => {
    expect(servers(resolvConf([], ["192.0.2.53"]))).toEqual([`nameserver ${DNS_FORWARD}`]);
  });
  test("--net-dns: those, in order; the host's own resolver (v4 and v6) through the forwarder, once", () => {
    expect(servers(resolvConf(["198.51.100.9", "2001:db8::9"], ["192.0.2.53"]))).toEqual([
      "nameserver 198.51.100.9",
      "nameserver 2001:db8::9",
    ]);
    expect(servers(resolvConf(["192.0.2.53", "198.51.100.9", "2001:db8::53"], ["192.0.2.53", "2001:db8::53"]))).toEqual(
      [`nameserver ${DNS_FORWARD}`, "nameserver 198.51.100.9"],
    );
    // Only the first of each family is pasta's upstream: a second host resolver is asked directly.
    expect(servers(resolvConf(["192.0.2.54"], ["192.0.2.53", "192.0.2.54"]))).toEqual(["nameserver 192.0.2.54"]);
  });
  test("nameservers: addresses in order, zone ids and junk dropped", () => {
    const text = "# c\nsearch x\nnameserver 127.0.0.53\n  nameserver fe80::1%eth0\nnameserver bogus\noptions edns0\n";
    expect(nameservers(text)).toEqual(["127.0.0.53", "fe80::1"]);
  });
  test("pasta is never given -D (it would stop the forwarder from having an upstream)", () => {
    const a = pastaArgs({ ...NO_NET, mode: "pasta", dns: ["198.51.100.9"] });
    expect(a).not.toContain("-D");
    expect(a).toContain("--dns-forward");
  });
});
