/**
 * A network world of the test's own: a "remote" host in a network namespace
 * it creates (isolate-test-<random>), joined to this host by a veth pair on
 * documentation ranges this machine does not use (198.51.100.0/24,
 * 2001:db8:51::/64), with HTTP servers and a resolver running there. Nothing
 * is ever sent to an address outside it or loopback. remove() takes it all down.
 */

import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { BIN, NOBODY, SCRATCH, sh } from "./index.ts";

export const HOST_END = "198.51.100.1";
export const REMOTE_A = "198.51.100.2";
export const REMOTE_B = "198.51.100.3";
export const HOST_END6 = "2001:db8:51::1";
export const REMOTE_A6 = "2001:db8:51::2";
export const PORT = 8080;

export interface World {
  readonly ns: string;
  readonly hostIf: string;
  remove(): Promise<void>;
}

async function must(argv: string[]): Promise<void> {
  const r = await sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
}

export async function makeWorld(): Promise<World> {
  const id = Math.random().toString(36).slice(2, 8);
  const ns = `isolate-test-${id}`;
  const hostIf = `itn${id}a`;
  const nsIf = `itn${id}b`;
  let server: ReturnType<typeof Bun.spawn> | undefined;
  const remove = async () => {
    if (server) {
      server.kill("SIGKILL");
      await server.exited;
    }
    await sh(["ip", "link", "del", hostIf]);
    await sh(["ip", "netns", "del", ns]);
  };
  try {
    await must(["ip", "netns", "add", ns]);
    await must(["ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", ns]);
    await must(["ip", "addr", "add", `${HOST_END}/24`, "dev", hostIf]);
    await must(["ip", "addr", "add", `${HOST_END6}/64`, "dev", hostIf, "nodad"]);
    await must(["ip", "link", "set", hostIf, "up"]);
    const inNs = ["ip", "netns", "exec", ns];
    await must([...inNs, "ip", "addr", "add", `${REMOTE_A}/24`, "dev", nsIf]);
    await must([...inNs, "ip", "addr", "add", `${REMOTE_B}/24`, "dev", nsIf]);
    await must([...inNs, "ip", "addr", "add", `${REMOTE_A6}/64`, "dev", nsIf, "nodad"]);
    await must([...inNs, "ip", "link", "set", nsIf, "up"]);
    await must([...inNs, "ip", "link", "set", "lo", "up"]);
    const cfg = {
      http: [
        [REMOTE_A, PORT, "remote-a"],
        [REMOTE_B, PORT, "remote-b"],
        [REMOTE_A6, PORT, "remote-a6"],
      ],
      // The "host's resolver" (REMOTE_A, runIsolate) and another one (REMOTE_B) for --net-dns.
      dns: [
        [REMOTE_A, REMOTE_B],
        { "allowed.test": [REMOTE_A, REMOTE_A6], "other.test": [REMOTE_B], "v6.test": [REMOTE_A6] },
      ],
    };
    server = Bun.spawn([...inNs, process.execPath, join(import.meta.dir, "net-remote.ts"), JSON.stringify(cfg)], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    if (!new TextDecoder().decode(first.value).includes("ready")) throw new Error("remote servers did not start");
  } catch (e) {
    await remove();
    throw e;
  }
  return { ns, hostIf, remove };
}

/** Whether /dev/net/tun here is usable by everyone (udev's 0666); else the tests give it to pasta in a mount namespace. */
async function tunOpen(): Promise<boolean> {
  const st = await Bun.file("/dev/net/tun").stat();
  return (st.mode & 0o006) === 0o006;
}

/** The world's "host resolver": a resolv.conf naming the world's resolver, bound over /etc/resolv.conf for each run. */
const RESOLV = join(SCRATCH, `net-resolv-${process.pid}.conf`);
await Bun.write(RESOLV, `nameserver ${REMOTE_A}\n`);
process.on("exit", () => {
  try {
    unlinkSync(RESOLV);
  } catch {}
});

/**
 * Run isolate ARGS as root or as nobody, in a private mount namespace of the
 * test's own where /etc/resolv.conf names the world's resolver (so pasta's
 * forwarder, which asks the host's resolver, asks the world's and never this
 * machine's real one). Where /dev/net/tun is 0600 (no udev: this machine),
 * the run also gets a 0666 tun node bound over it there, as a standard host
 * has. The host's own files and node are untouched.
 */
export async function runIsolate(
  args: string[],
  opts: { nobody?: boolean; timeoutMs?: number; env?: Record<string, string> } = {},
) {
  const who = opts.nobody ? NOBODY : [];
  const tun = (await tunOpen())
    ? ""
    : "mount -t tmpfs -o size=16k,mode=755 none /dev/net && mknod -m 666 /dev/net/tun c 10 200 && ";
  const wrap = [
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    `${tun}mount --bind "$0" /etc/resolv.conf && exec "$@"`,
    RESOLV,
  ];
  const r = await sh([...wrap, ...who, BIN, ...args], {
    timeoutMs: opts.timeoutMs ?? 30_000,
    ...(opts.env ? { env: opts.env } : {}),
  });
  return { ...r, stderr: r.stderr.replace(/^isolate: warning: --userns host: .*\n/m, "") };
}

/** A shell snippet fetching http://ADDR:PORT/ with bash's /dev/tcp (no client needed), 5 s at most. */
export function fetchCmd(addr: string, port = PORT): string {
  return `exec 3<>/dev/tcp/${addr}/${port} && printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3 && timeout 5 cat <&3`;
}
