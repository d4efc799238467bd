/**
 * `--net pasta`: the supervisor's hook for a sandbox connected through pasta.
 *
 *   prepare (before anything is created)  pasta, nft, nsenter and setpriv are found,
 *            /dev/net/tun is usable by the identity pasta runs as; the sandbox's
 *            resolv.conf (and hosts, with an allowlist) are given a place in a
 *            private directory and bound into the view
 *   attach (after the id maps, before GO)  allowlisted names are resolved; the rules
 *            (src/net/rules.ts) and ip_unprivileged_port_start=0 are set in the
 *            sandbox's namespace by `nsenter ... nft -f -`; pasta attaches to the
 *            namespace and configures it; the command starts with the network up
 *   finish   the refused-connection counter is read, pasta is killed and reaped,
 *            the private directory removed
 *
 * pasta never runs as root. Unprivileged, it runs as the caller and joins the
 * sandbox's user and network namespaces by pid. As root it runs as nobody with
 * CAP_SYS_ADMIN and CAP_NET_ADMIN as ambient capabilities (setpriv), given the
 * namespace as an inherited descriptor: pasta's own --runas drops to nobody
 * before it opens the namespace, and a setuid also clears the parent-death
 * signal. Either way setpriv arms PR_SET_PDEATHSIG (SIGKILL) last before exec,
 * so pasta dies with isolate on every path, SIGKILL included.
 */
import { HostError } from "../errors.ts";
import { nodeFs, readText } from "../host/files.ts";
import type { Host } from "../host/probe.ts";
import { findHelper } from "../host/subid.ts";
import type { Shim } from "../shim/load.ts";
import { isIPv4, isIPv6, type Net } from "../spec/net.ts";
import type { Spec } from "../spec/schema.ts";
import {
  allowNames,
  defaultGateways,
  hostsFile,
  NFT_COUNTER,
  NFT_TABLE,
  nftRuleset,
  pastaArgs,
  resolvConf,
} from "./rules.ts";

/** The network's part of the run report. */
export interface NetReport {
  readonly mode: Net["mode"];
  /** "HOSTIP:HOSTPORT->PORT/PROTO" ("*" for every host address). */
  readonly published: readonly string[];
  /** With an allowlist: connections and packets the rules refused. */
  readonly refused?: number;
}

export function netReport(net: Net, refused?: number): NetReport {
  const published = net.publish.map(
    (p) =>
      `${p.hostIp === undefined ? "*" : isIPv6(p.hostIp) ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}->${p.port}/${p.proto}`,
  );
  return refused === undefined ? { mode: net.mode, published } : { mode: net.mode, published, refused };
}

/** The uid pasta runs as when isolate is root. */
const RUNAS = 65534;
const READY_MS = 10_000;

interface Helpers {
  readonly pasta: string;
  readonly nft: string;
  readonly nsenter: string;
  readonly setpriv: string;
}

/** What --net pasta needs on this host: the first missing piece, with its remedy; or the helpers. */
export function pastaReadiness(root: boolean): Helpers | { what: string; remedy: string } {
  const need = [
    ["pasta", "passt"],
    ["nft", "nftables"],
    ["nsenter", "util-linux"],
    ["setpriv", "util-linux"],
  ] as const;
  const found: Record<string, string> = {};
  for (const [name, pkg] of need) {
    const p = findHelper(name);
    if (!p) return { what: `${name} not found`, remedy: `install it (Debian package ${pkg}: apt-get install ${pkg})` };
    found[name] = p;
  }
  const who = root ? RUNAS : (process.getuid?.() ?? 0);
  const tun = tunUsable(who);
  if (tun) return { what: tun, remedy: "chmod 0666 /dev/net/tun (udev does this on standard installs)" };
  return found as unknown as Helpers;
}

/** Why /dev/net/tun cannot be opened by uid (pasta opens it after dropping its privileges), or undefined. */
function tunUsable(uid: number): string | undefined {
  try {
    const st = nodeFs().statSync("/dev/net/tun");
    const mode = st.mode & 0o777;
    const ok = (mode & 0o006) === 0o006 || (st.uid === uid && (mode & 0o600) === 0o600);
    return ok ? undefined : `/dev/net/tun is mode ${mode.toString(8).padStart(4, "0")}: uid ${uid} cannot open it`;
  } catch {
    return "/dev/net/tun is missing (the tun driver: modprobe tun)";
  }
}

export class NetHook {
  private pasta: Bun.Subprocess<"ignore", "ignore", "pipe"> | undefined;
  private nsFds: number[] = [];
  private stderr = "";

  private constructor(
    readonly spec: Spec,
    private readonly net: Net,
    private readonly helpers: Helpers | undefined,
    private readonly dir: string | undefined,
    private readonly root: boolean,
  ) {}

  /** Whether the sandbox waits for attach() before it starts. */
  get active(): boolean {
    return this.helpers !== undefined;
  }

  /** Checks and the view's files; throws (before anything exists) when pasta cannot be used. */
  static prepare(spec: Spec, host: Host): NetHook {
    const net = spec.net;
    if (net.mode !== "pasta") return new NetHook(spec, net, undefined, undefined, host.root);
    const ready = pastaReadiness(host.root);
    if ("what" in ready) throw new HostError(`--net pasta: ${ready.what}`, ready.remedy);
    const fs = nodeFs();
    const base = process.env.XDG_RUNTIME_DIR && !host.root ? process.env.XDG_RUNTIME_DIR : "/tmp";
    const dir = fs.mkdtempSync(`${base}/isolate-net-${process.pid}-`);
    const files: [string, string][] = [["resolv.conf", "/etc/resolv.conf"]];
    if (net.allow.length > 0) files.push(["hosts", "/etc/hosts"]);
    for (const [name] of files) fs.writeFileSync(`${dir}/${name}`, "", { mode: 0o644 });
    const mounts = [
      ...spec.mounts,
      ...files.map(([name, dst]) => ({ type: "ro-bind" as const, src: `${dir}/${name}`, dst })),
    ];
    return new NetHook({ ...spec, mounts }, net, ready, dir, host.root);
  }

  /** Rules, then pasta, in the namespace of the stopped init `pid`; resolves once pasta has set it up. */
  async attach(shim: Shim, pid: number): Promise<void> {
    const h = this.helpers;
    if (!h || !this.dir) return;
    const fs = nodeFs();
    const resolved = await this.resolveAllowed();
    fs.writeFileSync(`${this.dir}/resolv.conf`, resolvConf());
    if (this.net.allow.length > 0) fs.writeFileSync(`${this.dir}/hosts`, hostsFile(this.spec.hostname, resolved.names));
    const ruleset = nftRuleset({
      net: this.net,
      hostAddresses: hostAddresses(),
      gateways: this.net.gateway.length > 0 ? this.net.gateway : hostGateways(),
      allowed: resolved.allowed,
    });
    // Held to the end: the counter is read after the sandbox is gone.
    for (const ns of this.root ? ["net"] : ["user", "net"]) {
      const fd = shim.open(`/proc/${pid}/ns/${ns}`, 0);
      if (fd < 0) throw new HostError(`--net pasta: open the sandbox's ${ns} namespace: errno ${-fd}`);
      this.nsFds.push(fd);
    }
    const enter = this.enterArgs(h);
    const rules = Bun.spawn(
      [
        ...enter,
        "/bin/sh",
        "-c",
        `{ echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start; } 2>/dev/null; exec "$0" -f -`,
        h.nft,
      ],
      { stdio: [new TextEncoder().encode(ruleset), "ignore", "pipe", ...this.nsFds] } as never,
    ) as Bun.Subprocess<"pipe", "ignore", "pipe">;
    const [rc, rulesErr] = await Promise.all([rules.exited, new Response(rules.stderr).text()]);
    if (rc !== 0) {
      throw new HostError(
        `--net pasta: set the sandbox's network rules: ${firstLine(rulesErr)}`,
        this.root
          ? undefined
          : "not yet for an unprivileged caller: nft loses the namespace's capabilities when nsenter execs it; run as root",
      );
    }
    await this.startPasta(h, pid);
  }

  /** nsenter into the sandbox's namespaces, through the held descriptors (3: user or net, 4: net). */
  private enterArgs(h: Helpers): string[] {
    return this.root
      ? [h.nsenter, "--net=/proc/self/fd/3", "--"]
      : [h.nsenter, "--user=/proc/self/fd/3", "--net=/proc/self/fd/4", "--preserve-credentials", "--"];
  }

  private async startPasta(h: Helpers, pid: number): Promise<void> {
    const args = pastaArgs(this.net);
    const lowPort = this.net.publish.some((p) => p.hostPort < 1024);
    let argv: string[];
    let fds: number[];
    if (this.root) {
      const caps = `+sys_admin,+net_admin${lowPort ? ",+net_bind_service" : ""}`;
      argv = [
        h.setpriv,
        `--reuid=${RUNAS}`,
        `--regid=${RUNAS}`,
        "--clear-groups",
        `--inh-caps=${caps}`,
        `--ambient-caps=${caps}`,
        "--pdeathsig=KILL",
        h.pasta,
        ...args,
        "--netns",
        "/proc/self/fd/3",
        "--netns-only",
      ];
      fds = [this.nsFds[0] ?? -1];
    } else {
      argv = [h.setpriv, "--pdeathsig=KILL", h.pasta, ...args, String(pid)];
      fds = [];
    }
    const proc = Bun.spawn(argv, { stdio: ["ignore", "ignore", "pipe", ...fds] } as never) as Bun.Subprocess<
      "ignore",
      "ignore",
      "pipe"
    >;
    this.pasta = proc;
    void this.keepStderr(proc.stderr);
    // Ready once pasta has configured the namespace: its routes show in /proc/PID/net (the init's namespace).
    const deadline = performance.now() + READY_MS;
    while (!configured(pid)) {
      if (proc.exitCode !== null || performance.now() > deadline) {
        const code = proc.exitCode;
        proc.kill("SIGKILL");
        await proc.exited;
        const why =
          code === null
            ? `not ready after ${READY_MS / 1000}s: ${firstLine(this.stderr) || "no message"}`
            : `exited with ${code}: ${firstLine(this.stderr) || "no message"}`;
        throw new HostError(`--net pasta: pasta ${why}`, this.remedy());
      }
      await Bun.sleep(2);
    }
  }

  private remedy(): string | undefined {
    if (/option|unrecognized|invalid/i.test(this.stderr))
      return "this pasta lacks an option isolate needs: update passt";
    return undefined;
  }

  private async keepStderr(s: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of s) this.stderr = (this.stderr + dec.decode(chunk)).slice(-4096);
  }

  private async resolveAllowed(): Promise<{
    names: { name: string; addresses: string[] }[];
    allowed: { address: string; port: number | undefined }[];
  }> {
    const names = allowNames(this.net.allow);
    const found = new Map<string, string[]>();
    if (names.length > 0) {
      const dns = require("node:dns") as typeof import("node:dns");
      const r = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
      if (this.net.dns.length > 0) r.setServers([...this.net.dns]);
      for (const name of names) {
        const [a, aaaa] = await Promise.all([
          r.resolve4(name).catch(() => [] as string[]),
          r.resolve6(name).catch(() => [] as string[]),
        ]);
        if (a.length + aaaa.length === 0) {
          throw new HostError(`--net-allow ${name}: the name does not resolve`, "check the name, or allow an address");
        }
        found.set(name, [...a, ...aaaa]);
      }
    }
    const allowed = this.net.allow.flatMap((a) =>
      (found.get(a.host) ?? [a.host]).map((address) => ({ address, port: a.port })),
    );
    return { names: [...found].map(([name, addresses]) => ({ name, addresses })), allowed };
  }

  /** After the sandbox: the refused count (with an allowlist), pasta ended and reaped, files removed. */
  async finish(shim: Shim): Promise<NetReport> {
    let refused: number | undefined;
    if (this.helpers && this.net.allow.length > 0 && this.nsFds.length > 0)
      refused = await this.readRefused(this.helpers);
    this.close(shim);
    if (this.pasta) await this.pasta.exited;
    return netReport(this.net, refused);
  }

  /** Synchronous cleanup for every path (a failed spawn too): pasta killed, fds closed, files removed. */
  close(shim: Shim): void {
    if (this.pasta && this.pasta.exitCode === null) this.pasta.kill("SIGKILL");
    for (const fd of this.nsFds) shim.close(fd);
    this.nsFds = [];
    if (this.dir) {
      try {
        nodeFs().rmSync(this.dir, { recursive: true, force: true });
      } catch {}
    }
  }

  private async readRefused(h: Helpers): Promise<number | undefined> {
    const p = Bun.spawn([...this.enterArgs(h), h.nft, "-j", "list", "counter", "inet", NFT_TABLE, NFT_COUNTER], {
      stdio: ["ignore", "pipe", "ignore", ...this.nsFds],
    } as never) as Bun.Subprocess<"ignore", "pipe", "ignore">;
    const [out, rc] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    if (rc !== 0) return undefined;
    const m = out.match(/"packets":\s*(\d+)/);
    return m ? Number(m[1]) : undefined;
  }
}

/** The helper's message: its lines but pasta's syslog noise and warnings, joined. */
function firstLine(s: string): string {
  const lines = s
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("Failed to send") && !/^Couldn't get any nameserver|^No external/.test(l));
  return lines.join("; ");
}

/** pasta has set up the namespace of pid: a default route (IPv4 or IPv6) is there. */
function configured(pid: number): boolean {
  const v4 = readText(`/proc/${pid}/net/route`) ?? "";
  if (/^\S+\s+00000000\s/m.test(v4)) return true;
  const v6 = readText(`/proc/${pid}/net/ipv6_route`) ?? "";
  // (Every namespace has an unreachable ::/0 on lo.)
  return /^0{32} 00 .*\s(?!lo$)\S+$/m.test(v6);
}

function hostAddresses(): string[] {
  const os = require("node:os") as typeof import("node:os");
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      const addr = a.address.split("%")[0] ?? "";
      if (isIPv4(addr) || isIPv6(addr)) out.push(addr);
    }
  }
  return out;
}

function hostGateways(): string[] {
  return defaultGateways(readText("/proc/net/route") ?? "", readText("/proc/net/ipv6_route") ?? "");
}
