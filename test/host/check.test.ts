/**
 * `isolate check` on this host, as root and as nobody, each field against
 * what the test finds out by other means (util-linux unshare, /proc, a C probe).
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import type { HostReport } from "../../src/host/check.ts";
import { type Built, buildFixtures, HAVE_GCC } from "../helpers/harden.ts";
import { BIN, IS_ROOT, isolate, needs, sh } from "../helpers/index.ts";

const HAVE_UNSHARE = Bun.which("unshare") !== null;
const asRoot = needs(IS_ROOT && HAVE_UNSHARE, "root (to check as root and as nobody) and util-linux unshare");

const NS_FLAG: Record<string, string> = {
  pid: "--pid",
  mount: "--mount",
  uts: "--uts",
  ipc: "--ipc",
  net: "--net",
  cgroup: "--cgroup",
  user: "--user",
  time: "--time",
};

/** Can this user make namespace `ns` (inside a new user namespace when not root)? Asked of util-linux. */
async function canUnshare(ns: string, nobody: boolean): Promise<boolean> {
  const extra = nobody && ns !== "user" ? ["--user", "--map-root-user"] : [];
  const r = await sh(["unshare", ...extra, NS_FLAG[ns] as string, "--fork", "true"], { nobody });
  return r.code === 0;
}

function cgroupMode(): string {
  const types = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" - ")[1]?.split(" ")[0]);
  const v2 = types.includes("cgroup2");
  const v1 = types.includes("cgroup");
  return v2 && v1 ? "hybrid" : v2 ? "v2" : v1 ? "v1" : "none";
}

/** "memory" -> [hierarchy path, mount dir] from /proc/self/cgroup and mountinfo. */
function v1Cgroup(controller: string): { path: string; dir: string } | undefined {
  const line = readFileSync("/proc/self/cgroup", "utf8")
    .split("\n")
    .find((l) => l.split(":")[1]?.split(",").includes(controller));
  const mount = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.includes(" - cgroup ") && l.split(" - ")[1]?.split(" ")[2]?.split(",").includes(controller));
  if (!line || !mount) return undefined;
  const path = line.split(":")[2] ?? "/";
  const dir = `${mount.split(" ")[4]}${path === "/" ? "" : path}`;
  return { path, dir };
}

let fixtures: Built | undefined;
beforeAll(async () => {
  if (HAVE_GCC) fixtures = await buildFixtures(["landlock-abi"]);
});
afterAll(() => fixtures?.remove());

for (const who of ["root", "nobody"] as const) {
  const nobody = who === "nobody";
  describe(`isolate check as ${who}`, () => {
    asRoot("--json: every field matches what this host is", async () => {
      const r = await isolate(["check", "--json"], { nobody });
      expect(r.stderr).toBe("");
      const report = JSON.parse(r.stdout) as HostReport;

      // Who and which kernel.
      expect(report.kernel.release).toBe(readFileSync("/proc/sys/kernel/osrelease", "utf8").trim());
      expect(report.kernel.ok).toBe(true);
      expect(report.user).toEqual(
        nobody ? { uid: 65534, gid: 65534, name: "nobody", root: false } : { uid: 0, gid: 0, name: "root", root: true },
      );

      // Namespaces, as this user.
      for (const ns of Object.keys(NS_FLAG)) {
        const expected = await canUnshare(ns, nobody);
        expect([ns, report.namespaces[ns as keyof typeof report.namespaces].ok]).toEqual([ns, expected]);
        expect(report.namespaces[ns as keyof typeof report.namespaces].viaUserNs).toBe(nobody && ns !== "user");
      }

      // Unprivileged user namespaces and their knobs.
      const unpriv = await sh(["unshare", "--user", "true"], { nobody: true });
      expect(report.userns.unprivileged).toBe(unpriv.code === 0);
      expect(report.userns.knobs.maxUserNamespaces).toBe(
        Number(readFileSync("/proc/sys/user/max_user_namespaces", "utf8")),
      );
      const apparmor = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";
      expect(report.userns.knobs.apparmorRestrict ?? null).toBe(
        existsSync(apparmor) ? Number(readFileSync(apparmor, "utf8")) : null,
      );
      expect(report.userns.knobs.seccompMode).toBe(0);
      expect(report.userns.blockers).toEqual([]);

      // Kernel features.
      expect(report.seccomp).toEqual({ filter: true, ownMode: 0 });
      expect(report.clone3).toBe(true);
      expect(report.pidfd).toBe(true);
      if (fixtures) {
        const abi = Number((await sh([fixtures.path("landlock-abi")])).stdout.trim());
        expect(report.landlock.abi).toBe(abi > 0 ? abi : null);
      }
      const ovl = await sh(
        [
          "unshare",
          "--user",
          "--map-root-user",
          "--mount",
          "sh",
          "-c",
          "mount -t tmpfs none /tmp && mkdir /tmp/l /tmp/u /tmp/w /tmp/m && mount -t overlay overlay -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w /tmp/m",
        ],
        { nobody },
      );
      expect(report.overlayInUserns).toBe(ovl.code === 0);

      // Id map helpers.
      expect(report.idmapHelpers.newuidmap).toBe(existsSync("/usr/bin/newuidmap") ? "/usr/bin/newuidmap" : null);
      expect(report.idmapHelpers.newgidmap).toBe(existsSync("/usr/bin/newgidmap") ? "/usr/bin/newgidmap" : null);

      // cgroups: the layout, and what this user may do there.
      expect(report.cgroups.mode as string).toBe(cgroupMode());
      for (const c of report.cgroups.controllers) {
        if (c.version !== "v1") continue;
        const mine = v1Cgroup(c.controller);
        expect([c.controller, c.cgroup, c.dir]).toEqual([c.controller, mine?.path, mine?.dir]);
        const w = await sh(["test", "-w", c.dir as string], { nobody });
        expect([c.controller, c.writable]).toEqual([c.controller, w.code === 0]);
        expect(c.delegated).toBe(false);
      }
      if (report.cgroups.v2) {
        const root = readFileSync(`${report.cgroups.v2.mountPoint}/cgroup.controllers`, "utf8").trim().split(/\s+/);
        for (const name of root.filter(Boolean)) {
          const c = report.cgroups.controllers.find((x) => x.controller === name);
          expect([name, c?.version]).toEqual([name, "v2"]);
        }
      }

      // The summary: every item, "no"s with a remedy; ok, because the default sandbox works here.
      for (const i of report.items) {
        if (!i.ok) expect([i.id, typeof i.remedy]).toEqual([i.id, "string"]);
        else expect(i.remedy).toBeUndefined();
      }
      expect(report.items.filter((i) => i.required && !i.ok)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(r.code).toBe(0);
    });

    asRoot("human-readable: one line per finding, the remedy under each no, exit 0", async () => {
      const r = await isolate(["check"], { nobody });
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines[0]).toBe(nobody ? "isolate check: nobody (uid 65534)" : "isolate check: root (uid 0, root)");
      expect(lines).toContainEqual(expect.stringMatching(/^ {2}yes {2}kernel +\S+ \(5\.12 or later needed\)$/));
      expect(lines).toContainEqual(expect.stringMatching(/^ {2}yes {2}namespace\.user +can be created$/));
      expect(lines).toContainEqual(expect.stringMatching(/^ {2}yes {2}seccomp +filters with kill-process available$/));
      expect(lines).toContainEqual(expect.stringMatching(/^ {2}yes {2}cgroup\.layout +(hybrid|v2|v1)/));
      for (let i = 0; i < lines.length; i++) {
        if (/^ {2}no /.test(lines[i] ?? "")) expect(lines[i + 1]).toMatch(/^ +-> \S/);
      }
      if (nobody) {
        // Without root, limits need delegation: said for each cgroup controller that has none.
        expect(r.stdout).toMatch(
          /no {3}cgroup\.memory .*not writable {2}\[optional\]\n +-> limits without root need a delegated cgroup v2 subtree/,
        );
      }
      expect(lines.at(-1)).toBe("result: everything the default sandbox needs works here");
    });
  });
}

describe("isolate check where the sandbox cannot run", () => {
  needs(IS_ROOT, "root")("inside isolate's own seccomp filter: no, the remedy, exit 1", async () => {
    const r = await isolate(["exec", "--user", "65534", "--", BIN, "check"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^ {2}no {3}clone3 +unavailable: Function not implemented\n +-> .*give the outer isolate --allow-nested/m,
    );
    expect(r.stdout).toMatch(
      /^ {2}no {3}namespace\.user +cannot be created: .*\n +-> isolate runs inside another isolate sandbox, whose seccomp filter/m,
    );
    expect(r.stdout).toMatch(
      /^ {2}no {3}userns\.unprivileged +blocked: isolate runs inside another isolate sandbox, whose seccomp filter/m,
    );
    expect(r.stdout).toMatch(/^result: the default sandbox cannot run here: .*clone3/m);
  });
});

/**
 * `check` and `exec` read the cgroups through one reader (src/cgroup/detect.ts):
 * a limit controller check calls usable is one whose limit exec enforces, and
 * one it calls unusable makes exec fail closed (125), as root and as nobody.
 */
describe("isolate check and exec agree on the cgroup controllers", () => {
  const LIMITS: Record<string, string[]> = { memory: ["--memory", "64M"], pids: ["--pids", "64"] };
  for (const nobody of [false, true]) {
    const who = nobody ? "nobody" : "root";
    needs(IS_ROOT, "root (to check as root and as nobody)")(`as ${who}`, async () => {
      const check = await isolate(["check", "--json"], { nobody });
      const report = JSON.parse(check.stdout) as HostReport;
      const items = new Map(report.items.map((i) => [i.id, i]));
      for (const [controller, flags] of Object.entries(LIMITS)) {
        const item = items.get(`cgroup.${controller}`);
        expect(item).toBeDefined();
        const r = await isolate(["exec", ...flags, "--", "true"], { nobody });
        expect({ controller, exit: r.code === 0 ? 0 : r.code }).toEqual({ controller, exit: item?.ok ? 0 : 125 });
      }
    });
  }
});
