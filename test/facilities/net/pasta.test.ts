/**
 * --net pasta against a world of the test's own (world.ts): outbound TCP over
 * IPv4 and IPv6, DNS through pasta's forwarder, the host's own services out of
 * reach, published ports, the allowlist, the report; as root and as nobody;
 * nothing left behind.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, readFileSync } from "node:fs";
import { readdir, readlink } from "node:fs/promises";
import { DNS_FORWARD } from "../../../src/facilities/net/rules.ts";
import { IS_ROOT, needs, pidsWith, tempDir } from "../../helpers/index.ts";
import {
  fetchCmd,
  HOST_END,
  makeWorld,
  PORT,
  REMOTE_A,
  REMOTE_A6,
  REMOTE_B,
  runIsolate,
  type World,
} from "../../helpers/net-world.ts";

const HAVE = ["pasta", "nft", "setpriv", "ip", "unshare"].every((b) => Bun.which(b) !== null);
const it = needs(IS_ROOT && HAVE, "root with pasta (passt), nft (nftables), iproute2 and util-linux");

let world: World | undefined;
let hostLo: ReturnType<typeof Bun.serve> | undefined;
let hostVeth: ReturnType<typeof Bun.serve> | undefined;
// The world's resolver is the "host's" (world.ts binds a resolv.conf naming it for each run).
const DNS: string[] = [];
// Probes of "the host through the gateway" go to an address this test owns, never to the real gateway.
const GW = ["--net-gateway", HOST_END];

beforeAll(async () => {
  if (!IS_ROOT || !HAVE) return;
  world = await makeWorld();
  hostLo = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("host loopback\n") });
  hostVeth = Bun.serve({ hostname: HOST_END, port: 0, fetch: () => new Response("host veth\n") });
});

afterAll(async () => {
  hostLo?.stop(true);
  hostVeth?.stop(true);
  await world?.remove();
});

async function noPasta(): Promise<void> {
  // pasta's command line names its flags; none of ours may outlive a run.
  expect(await pidsWith("--dns-forward")).toEqual([]);
}

function stateOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "";
  } catch {
    return "gone";
  }
}

function ppidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

async function withComm(pids: number[], comm: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of pids) {
    const c = await Bun.file(`/proc/${pid}/comm`)
      .text()
      .catch(() => "");
    if (c.trim() === comm) out.push(pid);
  }
  return out;
}

/** The generated-files directories of these isolate pids (src/facilities/net/pasta.ts: /tmp/isolate-net-PID-XXXXXX). */
async function netDirs(pids: number[]): Promise<string[]> {
  const names = await readdir("/tmp");
  return names.filter((n) => pids.some((p) => n.startsWith(`isolate-net-${p}-`)));
}

for (const nobody of [false, true]) {
  const who = nobody ? "as nobody" : "as root";
  describe(`--net pasta ${who}`, () => {
    it("fetches from a remote server over IPv4 and IPv6; the default network cannot", async () => {
      const r = await runIsolate(
        ["exec", "--net", "pasta", ...DNS, "--", "bash", "-c", `${fetchCmd(REMOTE_A)}; ${fetchCmd(REMOTE_A6)}`],
        { nobody },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("hello from remote-a\n");
      expect(r.stdout).toContain("hello from remote-a6\n");
      expect(r.code).toBe(0);
      const none = await runIsolate(["exec", "--", "bash", "-c", fetchCmd(REMOTE_A)], { nobody });
      expect(none.code).not.toBe(0);
      expect(none.stdout).not.toContain("hello");
      await noPasta();
    }, 30_000);

    it("resolves names through pasta's forwarder; the host's resolv.conf is untouched", async () => {
      const before = await Bun.file("/etc/resolv.conf").text();
      const r = await runIsolate(
        [
          "exec",
          "--net",
          "pasta",
          "--",
          "sh",
          "-c",
          "grep ^nameserver /etc/resolv.conf; getent ahostsv4 other.test | head -1; getent hosts v6.test; getent hosts nope.test || echo no-such-name",
        ],
        { nobody },
      );
      expect(r.stderr).toBe("");
      // The sandbox asks the forwarder only; the answers come from the world's resolver through it.
      expect(r.stdout.match(/^nameserver .*$/gm)).toEqual([`nameserver ${DNS_FORWARD}`]);
      expect(r.stdout).toContain(`${REMOTE_B} `);
      expect(r.stdout).toContain(`${REMOTE_A6} `);
      expect(r.stdout).toContain("no-such-name");
      expect(r.code).toBe(0);
      expect(await Bun.file("/etc/resolv.conf").text()).toBe(before);
    }, 30_000);

    it("--net-dns: the sandbox asks that resolver directly (the host's own through the forwarder)", async () => {
      const cmd = "grep ^nameserver /etc/resolv.conf; getent hosts v6.test";
      const r = await runIsolate(["exec", "--net", "pasta", "--net-dns", REMOTE_B, "--", "sh", "-c", cmd], { nobody });
      expect(r.stdout.match(/^nameserver .*$/gm)).toEqual([`nameserver ${REMOTE_B}`]);
      expect(r.stdout).toContain(`${REMOTE_A6} `);
      expect(r.code).toBe(0);
      // REMOTE_A is the host's resolver here: pasta rewrites its answers as the forwarder's, so it is asked there.
      const h = await runIsolate(["exec", "--net", "pasta", "--net-dns", REMOTE_A, "--", "sh", "-c", cmd], { nobody });
      expect(h.stdout.match(/^nameserver .*$/gm)).toEqual([`nameserver ${DNS_FORWARD}`]);
      expect(h.stdout).toContain(`${REMOTE_A6} `);
    }, 30_000);

    it("keeps the host's loopback and its other addresses out of reach unless --net-host-loopback", async () => {
      const lo = hostLo?.port ?? 0;
      const veth = hostVeth?.port ?? 0;
      const probe = `${fetchCmd(HOST_END, lo)}; echo; ${fetchCmd(HOST_END, veth)}; echo; ${fetchCmd("169.254.0.1", 9)}; true`;
      const t0 = performance.now();
      const off = await runIsolate(["exec", "--net", "pasta", ...DNS, ...GW, "--", "bash", "-c", probe], { nobody });
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(off.stdout).not.toContain("host loopback");
      expect(off.stdout).not.toContain("host veth");
      const on = await runIsolate(
        ["exec", "--net", "pasta", "--net-host-loopback", ...DNS, ...GW, "--", "bash", "-c", fetchCmd(HOST_END, lo)],
        { nobody },
      );
      expect(on.stdout).toContain("host loopback");
    }, 30_000);

    it("--publish 18080:80 serves from inside the sandbox to the host", async () => {
      const port = nobody ? 18081 : 18080;
      const server = `exec ${process.execPath} -e 'Bun.serve({port:80,fetch:()=>new Response("inside\\n")});console.log("up")'`;
      const p = runIsolate(
        [
          "exec",
          "--net",
          "pasta",
          ...DNS,
          "--publish",
          `127.0.0.1:${port}:80`,
          "--timeout",
          "4s",
          "--",
          "sh",
          "-c",
          server,
        ],
        { nobody },
      );
      let body = "";
      for (let i = 0; i < 40 && !body; i++) {
        await Bun.sleep(100);
        body = await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => r.text(),
          () => "",
        );
      }
      expect(body).toBe("inside\n");
      await p;
      await noPasta();
    }, 30_000);

    it("--net-allow permits one server and refuses the other within a second; DNS answers only allowed names", async () => {
      const probe = `${fetchCmd("allowed.test")}; s=$(date +%s%N); ${fetchCmd(REMOTE_B)} || echo refused; e=$(date +%s%N); echo "ms=$(( (e-s)/1000000 ))"; getent hosts other.test || echo no-name`;
      const r = await runIsolate(
        ["exec", "--net", "pasta", ...DNS, "--net-allow", `allowed.test:${PORT}`, "--json", "--", "bash", "-c", probe],
        { nobody },
      );
      expect(r.stdout).toContain("hello from remote-a");
      expect(r.stdout).not.toContain("remote-b");
      expect(r.stdout).toContain("refused");
      expect(r.stdout).toContain("no-name");
      const ms = Number(r.stdout.match(/ms=(\d+)/)?.[1] ?? 99999);
      expect(ms).toBeLessThan(1000);
      const report = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
      expect(report.network.mode).toBe("pasta");
      expect(report.network.refused).toBeGreaterThan(0);
    }, 30_000);

    it("--join NAME:net shares a pasta-connected namespace", async () => {
      const name = `netjoin-${nobody ? "n" : "r"}-${process.pid}`;
      // A state directory of the test's own (the caller's, 0700), not the machine's runtime dir.
      const state = tempDir("isolate-netjoin-");
      chmodSync(state.path, 0o700);
      if (nobody) chownSync(state.path, 65534, 65534);
      const env = { ...process.env, XDG_RUNTIME_DIR: state.path } as Record<string, string>;
      const start = await runIsolate(
        ["exec", "--name", name, "--detach", "--no-cwd", "--net", "pasta", "--", "sleep", "30"],
        { nobody, env },
      );
      expect(start.stderr).toBe("");
      expect(start.code).toBe(0);
      try {
        const r = await runIsolate(["exec", "--join", `${name}:net`, "--", "bash", "-c", fetchCmd(REMOTE_A)], {
          nobody,
          env,
        });
        expect(r.stderr).toBe("");
        expect(r.stdout).toContain("hello from remote-a\n");
        // Without the join, the same sandbox has no route out.
        const alone = await runIsolate(["exec", "--", "bash", "-c", `${fetchCmd(REMOTE_A)} || echo unreachable`], {
          nobody,
        });
        expect(alone.stdout).toContain("unreachable");
      } finally {
        await runIsolate(["stop", name], { nobody, env });
        await runIsolate(["rm", name], { nobody, env });
        state.remove();
      }
    }, 30_000);

    it("a SIGKILLed isolate leaves no pasta behind", async () => {
      const marker = `net-kill-${Math.random().toString(36).slice(2)}`;
      const p = runIsolate(["exec", "--net", "pasta", ...DNS, "--", "sh", "-c", "sleep 30", marker], { nobody });
      const sup: number[] = [];
      let pasta: number[] = [];
      try {
        for (let i = 0; i < 50 && pasta.length === 0; i++) {
          await Bun.sleep(100);
          sup.splice(0, sup.length, ...(await withComm(await pidsWith(marker), "isolate")));
          // pasta is isolate's child, or (root's mapped default) its watcher's.
          const watchers = await withComm(await pidsWith("--dns-forward"), "sh");
          pasta = (await pidsWith("--dns-forward")).filter(
            (pid) => !watchers.includes(pid) && (sup.includes(ppidOf(pid)) || sup.includes(ppidOf(ppidOf(pid)))),
          );
        }
        expect(sup.length).toBe(1);
        expect(pasta.length).toBe(1);
        // The command runs: the generated files' directory is gone already (the view's binds hold the files).
        for (let i = 0; i < 20 && (await netDirs(sup)).length > 0; i++) await Bun.sleep(50);
        expect(await netDirs(sup)).toEqual([]);
      } finally {
        for (const pid of sup) process.kill(pid, "SIGKILL");
        await p;
      }
      await Bun.sleep(300);
      // Gone, or a zombie waiting for this machine's pid 1 to reap it.
      for (const pid of pasta) expect(stateOf(pid)).toMatch(/^(gone|Z)$/);
      await noPasta();
      expect(await netDirs(sup)).toEqual([]);
    }, 30_000);
  });
}

// As root in a user namespace of its own (a mapped range): the network namespace is that user
// namespace's, entered the way an unprivileged caller's is; pasta still runs as nobody.
describe("--net pasta as root with a mapped range (--map-uid)", () => {
  const MAP = ["--map-uid", "0:100000:65536", "--map-gid", "0:100000:65536"];
  it("fetches, resolves through the forwarder, keeps the host out of reach, counts refusals", async () => {
    const lo = hostLo?.port ?? 0;
    const probe = `readlink /proc/self/ns/user; ${fetchCmd(REMOTE_A)}; getent hosts v6.test; { ${fetchCmd(HOST_END, lo)}; } 2>/dev/null || echo host-refused; cat /proc/sys/net/ipv4/ip_unprivileged_port_start`;
    const r = await runIsolate(["exec", "--net", "pasta", ...MAP, ...GW, "--", "bash", "-c", probe]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const own = await readlink("/proc/self/ns/user");
    expect(r.stdout.split("\n")[0]).toMatch(/^user:\[\d+\]$/);
    expect(r.stdout.split("\n")[0]).not.toBe(own);
    expect(r.stdout).toContain("hello from remote-a\n");
    expect(r.stdout).toContain(`${REMOTE_A6} `);
    expect(r.stdout).toContain("host-refused");
    expect(r.stdout).not.toContain("host loopback");
    expect(r.stdout.trim().split("\n").pop()).toBe("0");
    const allow = await runIsolate([
      "exec",
      "--net",
      "pasta",
      ...MAP,
      "--net-allow",
      `${REMOTE_A}:${PORT}`,
      "--json",
      "--",
      "bash",
      "-c",
      `{ ${fetchCmd(REMOTE_B)}; } 2>/dev/null || echo refused`,
    ]);
    expect(allow.stdout).toContain("refused");
    const report = JSON.parse(allow.stderr.slice(allow.stderr.indexOf("{")));
    expect(report.network.refused).toBeGreaterThan(0);
    await noPasta();
  }, 30_000);
});
