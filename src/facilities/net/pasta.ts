/**
 * `--net pasta`: the supervisor's hook for a sandbox connected through pasta.
 *
 *   prepare (before anything is created)  pasta, nft and setpriv are found,
 *            /dev/net/tun is usable by the identity pasta runs as; the sandbox's
 *            resolv.conf (and hosts, with an allowlist) are given a place in a
 *            private directory and bound into the view
 *   attach (after the id maps, before GO)  allowlisted names are resolved; the rules
 *            (src/facilities/net/rules.ts) and ip_unprivileged_port_start=0 are set in the
 *            sandbox's namespace by isolate-nsexec (native/nsexec.c) running nft;
 *            pasta attaches to the namespace and configures it; the private
 *            directory is removed (the view's binds hold its files); the
 *            command starts with the network up
 *   finish   the refused-connection counter is read, pasta is killed and reaped
 *
 * The sandbox's network namespace may be owned by a user namespace of its own
 * (always for an unprivileged caller; for root too once it runs in one): then
 * both are entered, the user namespace first. isolate-nsexec joins them and
 * keeps CAP_NET_ADMIN as an ambient capability across its exec of nft (which
 * nsenter cannot do: nft would lose the namespace's capabilities).
 *
 * pasta never runs as root. Unprivileged, it runs as the caller and joins the
 * sandbox's user and network namespaces (--userns, --netns, inherited
 * descriptors). As root it runs as nobody with CAP_SYS_ADMIN and CAP_NET_ADMIN
 * as ambient capabilities (setpriv), given the namespaces the same way:
 * pasta's own --runas drops to nobody before it opens the namespace, and a
 * setuid also clears the parent-death signal. Either way setpriv arms
 * PR_SET_PDEATHSIG (SIGKILL) last before exec, so pasta dies with isolate on
 * every path, SIGKILL included; where pasta joins a user namespace root owns
 * (root's mapped default), which clears that signal again, WATCHER holds it.
 */
import { NSEXEC_BASE64 } from "../../../build/embedded.ts";
import type { Spec } from "../../config/schema.ts";
import { HostError, field as specField } from "../../errors.ts";
import { nodeFs, readText } from "../../host/files.ts";
import type { Host } from "../../host/probe.ts";
import { findHelper } from "../../host/subid.ts";
import type { Shim } from "../../shim/load.ts";
import { isIPv4, isIPv6, type Net } from "./fields.ts";
import {
  allowNames,
  defaultGateways,
  hostsFile,
  NFT_COUNTER,
  NFT_TABLE,
  nameservers,
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

/** Where the generated resolv.conf and hosts wait for the view's binds: BASE/isolate-net-PID-XXXXXX. */
const NET_DIR_PREFIX = "isolate-net-";
function netDirBase(root: boolean): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg && !root ? xdg : "/tmp";
}

/**
 * isolate clean: the generated files' directories of isolate processes that
 * died before their command started (SIGKILL). Only directories of this
 * caller's own, named by isolate, whose pid is gone, holding nothing but the
 * generated files; nothing is followed.
 */
export function sweepNetDirs(opts: { dryRun?: boolean; bases?: readonly string[] } = {}): {
  removed: string[];
  failed: { path: string; why: string }[];
} {
  const fs = nodeFs();
  const uid = process.getuid?.() ?? 0;
  const bases = opts.bases ?? [...new Set([netDirBase(uid === 0), "/tmp"])];
  const removed: string[] = [];
  const failed: { path: string; why: string }[] = [];
  for (const base of bases) {
    let names: string[];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = name.match(/^isolate-net-(\d+)-[A-Za-z0-9]{6}$/);
      if (!m) continue;
      const path = `${base}/${name}`;
      try {
        const st = fs.lstatSync(path);
        if (!st.isDirectory() || st.uid !== uid) continue;
        if (fs.existsSync(`/proc/${m[1]}`)) continue;
        const inside = fs.readdirSync(path, { withFileTypes: true });
        if (inside.some((e) => !e.isFile() || (e.name !== "resolv.conf" && e.name !== "hosts"))) continue;
        if (!opts.dryRun) {
          for (const e of inside) fs.unlinkSync(`${path}/${e.name}`);
          fs.rmdirSync(path);
        }
        removed.push(path);
      } catch (e) {
        failed.push({ path, why: (e as Error).message });
      }
    }
  }
  return { removed, failed };
}

/** The uid pasta runs as when isolate is root. */
const RUNAS = 65534;
/**
 * A shell that runs pasta ("$@") and, on SIGTERM (its parent-death signal, or
 * close()), kills and reaps it. It keeps its own credentials, so the signal
 * stays armed while pasta's is cleared by joining root's user namespace.
 */
const WATCHER = 'trap \'kill -KILL "$p" 2>/dev/null; wait "$p"; exit 0\' TERM; "$@" & p=$!; wait "$p"';
const READY_MS = 10_000;

/** CAP_NET_ADMIN: what nft needs in the sandbox's namespace. */
const CAP_NET_ADMIN = 12;

export interface Helpers {
  readonly pasta: string;
  readonly nft: string;
  readonly setpriv: string;
}

/** isolate-nsexec, held in a sealed memfd once per process (only --net pasta needs it). */
let nsexecFd: number | undefined;
function nsexec(shim: Shim): number {
  nsexecFd ??= shim.memfd("isolate-nsexec", Uint8Array.fromBase64(NSEXEC_BASE64), true);
  return nsexecFd;
}

/** Whether pid's user namespace is another than isolate's own. */
function ownUserns(pid: number): boolean {
  const fs = nodeFs();
  const a = fs.statSync(`/proc/${pid}/ns/user`);
  const b = fs.statSync("/proc/self/ns/user");
  return a.ino !== b.ino || a.dev !== b.dev;
}

/** One finding of what --net pasta needs, for isolate check. */
export interface PastaNeed {
  readonly id: string;
  readonly ok: boolean;
  readonly value: string;
  readonly remedy: string;
}

const NEEDED = [
  ["pasta", "passt"],
  ["nft", "nftables"],
  ["setpriv", "util-linux"],
] as const;

/** Everything --net pasta needs here: each helper (with its Debian package), and /dev/net/tun for pasta's user. */
export function pastaNeeds(root: boolean): PastaNeed[] {
  const out: PastaNeed[] = NEEDED.map(([name, pkg]) => {
    const p = findHelper(name);
    return {
      id: `net.${name}`,
      ok: p !== undefined,
      value: p ?? `${name} not found`,
      remedy: `${specField("net.mode", "pasta")} needs ${name}: install it (Debian package ${pkg}: apt-get install ${pkg})`,
    };
  });
  const who = root ? RUNAS : (process.getuid?.() ?? 0);
  const tun = tunUsable(who);
  out.push({
    id: "net.tun",
    ok: tun === undefined,
    value: tun ?? `/dev/net/tun usable by uid ${who}`,
    remedy: tun?.includes("missing")
      ? `${specField("net.mode", "pasta")} needs it: load the tun driver (modprobe tun)`
      : `${specField("net.mode", "pasta")} needs it: chmod 0666 /dev/net/tun (udev does this on standard installs)`,
  });
  return out;
}

/** What --net pasta needs on this host: the first missing piece, with its remedy; or the helpers. */
export function pastaReadiness(root: boolean): Helpers | { what: string; remedy: string } {
  const needs = pastaNeeds(root);
  const missing = needs.find((n) => !n.ok);
  if (missing)
    return { what: missing.value, remedy: missing.remedy.replace(/^\u{E000}[^\u{E002}]*\u{E002} needs \S+: /u, "") };
  const at = (id: string) => needs.find((n) => n.id === id)?.value ?? "";
  return { pasta: at("net.pasta"), nft: at("net.nft"), setpriv: at("net.setpriv") };
}

/** Why /dev/net/tun cannot be opened by uid (pasta opens it after dropping its privileges), or undefined. */
function tunUsable(uid: number): string | undefined {
  try {
    const st = nodeFs().statSync("/dev/net/tun");
    const mode = st.mode & 0o777;
    const ok = (mode & 0o006) === 0o006 || (st.uid === uid && (mode & 0o600) === 0o600);
    return ok ? undefined : `/dev/net/tun is mode ${mode.toString(8).padStart(4, "0")}: uid ${uid} cannot open it`;
  } catch {
    return "/dev/net/tun is missing";
  }
}

export class NetHook {
  private pasta: Bun.Subprocess<"ignore", "ignore", "pipe"> | undefined;
  /** pasta runs under WATCHER (this.pasta is the watcher): it is ended with SIGTERM, which the watcher passes on as SIGKILL. */
  private watched = false;
  /** The sandbox's namespaces, held to the end: the user namespace (when it has its own) first, then the network. */
  private nsFds: number[] = [];
  private userns = false;
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

  /** The checks: the helpers --net pasta runs, or undefined without it; throws (before anything exists) when pasta cannot be used. */
  static check(spec: Spec, host: Host): Helpers | undefined {
    if (spec.net.mode !== "pasta") return undefined;
    const ready = pastaReadiness(host.root);
    if ("what" in ready) throw new HostError(`${specField("net.mode", "pasta")}: ${ready.what}`, ready.remedy);
    return ready;
  }

  /** The view's files (with the helpers check() found). */
  static prepare(spec: Spec, host: Host, ready: Helpers | undefined): NetHook {
    const net = spec.net;
    if (net.mode !== "pasta" || !ready) return new NetHook(spec, net, undefined, undefined, host.root);
    const fs = nodeFs();
    const base = netDirBase(host.root);
    let dir: string;
    try {
      dir = fs.mkdtempSync(`${base}/${NET_DIR_PREFIX}${process.pid}-`);
    } catch (e) {
      throw new HostError(
        `${specField("net.mode", "pasta")}: cannot make the directory for the sandbox's resolv.conf in ${base}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        base === "/tmp"
          ? "make /tmp writable"
          : "XDG_RUNTIME_DIR must name a directory of yours (or unset it: /tmp is used)",
      );
    }
    // Searchable by all, listable by none: the init may run as a mapped uid (root's range with
    // --map-uid) and must reach the files to bind them. They hold nothing secret and only isolate writes them.
    fs.chmodSync(dir, 0o711);
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
    fs.writeFileSync(
      `${this.dir}/resolv.conf`,
      resolvConf(this.net.dns, nameservers(readText("/etc/resolv.conf") ?? "")),
    );
    if (this.net.allow.length > 0) fs.writeFileSync(`${this.dir}/hosts`, hostsFile(this.spec.hostname, resolved.names));
    const ruleset = nftRuleset({
      net: this.net,
      hostAddresses: hostAddresses(),
      gateways: this.net.gateway.length > 0 ? this.net.gateway : hostGateways(),
      allowed: resolved.allowed,
    });
    // Held to the end: the counter is read after the sandbox is gone.
    this.userns = ownUserns(pid);
    for (const ns of this.userns ? ["user", "net"] : ["net"]) {
      const fd = shim.open(`/proc/${pid}/ns/${ns}`, 0);
      if (fd < 0)
        throw new HostError(`${specField("net.mode", "pasta")}: open the sandbox's ${ns} namespace: errno ${-fd}`);
      this.nsFds.push(fd);
    }
    // The rules and pasta at once (both must be done before GO; neither needs the other): nft's run is off the wait.
    const rules = this.spawnInside(shim, "p", [h.nft, "-f", "-"], new TextEncoder().encode(ruleset), "ignore");
    const [loaded, attached] = await Promise.allSettled([
      Promise.all([rules.exited, new Response(rules.stderr).text()]),
      this.startPasta(h, pid),
    ]);
    if (loaded.status === "rejected") throw loaded.reason;
    const [rc, rulesErr] = loaded.value;
    if (rc !== 0)
      throw new HostError(
        `${specField("net.mode", "pasta")}: set the sandbox's network rules: ${firstLine(rulesErr) || `exit ${rc}`}`,
      );
    if (attached.status === "rejected") throw attached.reason;
  }

  /**
   * argv run by isolate-nsexec inside the sandbox's namespaces (the held
   * descriptors: 3 the user namespace when it has its own, then the network
   * one) with CAP_NET_ADMIN; "p" also sets ip_unprivileged_port_start to 0.
   */
  private spawnInside<O extends "pipe" | "ignore">(
    shim: Shim,
    flags: string,
    argv: string[],
    stdin: Uint8Array | "ignore",
    stdout: O,
  ): Bun.Subprocess<"pipe", O, "pipe"> {
    const mode = `${this.userns ? "u" : "n"}${flags}`;
    // The memfd is passed at the fd after the namespaces' and run by its /proc/self/fd path (nsexec closes it).
    const exe = this.nsFds.length + 3;
    return Bun.spawn([`/proc/self/fd/${exe}`, mode, String(CAP_NET_ADMIN), ...argv], {
      argv0: "isolate-nsexec",
      stdio: [stdin, stdout, "pipe", ...this.nsFds, nsexec(shim)],
    } as never) as Bun.Subprocess<"pipe", O, "pipe">;
  }

  private async startPasta(h: Helpers, pid: number): Promise<void> {
    const args = pastaArgs(this.net);
    const lowPort = this.net.publish.some((p) => p.hostPort < 1024);
    let argv: string[];
    if (this.root) {
      const caps = `+sys_admin,+net_admin${lowPort ? ",+net_bind_service" : ""}`;
      const asNobody = [
        h.setpriv,
        `--reuid=${RUNAS}`,
        `--regid=${RUNAS}`,
        "--clear-groups",
        `--inh-caps=${caps}`,
        `--ambient-caps=${caps}`,
      ];
      // Joining a user namespace that root owns is a change of credentials for pasta (it is not
      // that namespace's owner), which clears its parent-death signal. Then a watcher that never
      // changes credentials holds the signal (SIGTERM) and ends pasta with itself.
      argv = this.userns
        ? [
            ...asNobody,
            "--pdeathsig=TERM",
            "/bin/sh",
            "-c",
            WATCHER,
            "isolate-pasta",
            h.pasta,
            ...args,
            ...this.pastaNs(),
          ]
        : [...asNobody, "--pdeathsig=KILL", h.pasta, ...args, ...this.pastaNs()];
      this.watched = this.userns;
    } else {
      argv = [h.setpriv, "--pdeathsig=KILL", h.pasta, ...args, ...this.pastaNs()];
    }
    const fds = this.nsFds;
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
        proc.kill(this.watched ? "SIGTERM" : "SIGKILL");
        await proc.exited;
        const why =
          code === null
            ? `not ready after ${READY_MS / 1000}s: ${firstLine(this.stderr) || "no message"}`
            : `exited with ${code}: ${firstLine(this.stderr) || "no message"}`;
        throw new HostError(`${specField("net.mode", "pasta")}: pasta ${why}`, this.remedy());
      }
      await Bun.sleep(2);
    }
  }

  /** How pasta finds the sandbox: the inherited descriptors (3, and 4 with a user namespace of its own). */
  private pastaNs(): string[] {
    return this.userns
      ? ["--userns", "/proc/self/fd/3", "--netns", "/proc/self/fd/4"]
      : ["--netns", "/proc/self/fd/3", "--netns-only"];
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
          throw new HostError(
            `${specField("net.allow", name)}: the name does not resolve`,
            "check the name, or allow an address",
          );
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
      refused = await this.readRefused(shim, this.helpers);
    this.close(shim);
    if (this.pasta) await this.pasta.exited;
    return netReport(this.net, refused);
  }

  /**
   * The command has started: the view's binds hold the generated files, so
   * their directory goes now (a SIGKILL of isolate later leaves nothing; before
   * this point `isolate clean` sweeps it: sweepNetDirs).
   */
  started(): void {
    this.removeDir();
  }

  private removeDir(): void {
    if (!this.dir) return;
    try {
      nodeFs().rmSync(this.dir, { recursive: true, force: true });
    } catch {}
  }

  /**
   * Cleanup for every path (a failed spawn too): pasta killed, fds closed,
   * files removed; idempotent. Resolves once pasta is reaped.
   */
  close(shim: Shim): Promise<unknown> | undefined {
    if (this.pasta && this.pasta.exitCode === null) this.pasta.kill(this.watched ? "SIGTERM" : "SIGKILL");
    for (const fd of this.nsFds) shim.close(fd);
    this.nsFds = [];
    this.removeDir();
    return this.pasta?.exited;
  }

  private async readRefused(shim: Shim, h: Helpers): Promise<number | undefined> {
    const p = this.spawnInside(
      shim,
      "",
      [h.nft, "-j", "list", "counter", "inet", NFT_TABLE, NFT_COUNTER],
      "ignore",
      "pipe",
    );
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
