/** Per-controller detection from mountinfo and /proc/self/cgroup text (no kernel). */
import { describe, expect, test } from "bun:test";
import { dirUnder, layoutFrom, parseMountinfo, parseProcCgroup } from "../../src/cgroup/detect.ts";

// This build host: hybrid, v1 controllers, cgroup2 with only hugetlb.
const HYBRID_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_SELF = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/`;

// cgroup_no_v1=all, systemd-style.
const V2_MOUNTS = `25 30 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const V2_SELF = "0::/user.slice/user-1000.slice/session-2.scope\n";
const V2_ROOT = "cpuset cpu io memory hugetlb pids rdma misc\n";

// Older distributions: cpu and cpuacct co-mounted, no cgroup2.
const V1_MOUNTS = `30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
32 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,pids`;
const V1_SELF = "4:pids:/user.slice\n3:memory:/user.slice\n2:cpu,cpuacct:/user.slice\n";

describe("parsers", () => {
  test("mountinfo keeps cgroup mounts only, with super options and octal escapes", () => {
    const m = parseMountinfo(`${HYBRID_MOUNTS}\n50 31 0:40 /a\\040b /mnt/x\\040y rw - cgroup cgroup rw,pids`);
    expect(m.map((e) => e.fstype)).not.toContain("tmpfs");
    expect(m.length).toBe(11);
    expect(m[0]?.superOptions).toEqual(["rw", "cpu"]);
    expect(m.at(-1)).toEqual({ root: "/a b", mountpoint: "/mnt/x y", fstype: "cgroup", superOptions: ["rw", "pids"] });
  });

  test("mountinfo with optional fields before the separator", () => {
    const [m] = parseMountinfo(V2_MOUNTS);
    expect(m?.mountpoint).toBe("/sys/fs/cgroup");
    expect(m?.fstype).toBe("cgroup2");
  });

  test("/proc/self/cgroup: v2 line, v1 lines, co-mounted and named hierarchies", () => {
    const m = parseProcCgroup(HYBRID_SELF);
    expect(m.v2).toBe("/");
    expect(m.v1.get("memory")).toBe("/process_api/abc");
    expect(m.v1.get("name=systemd")).toBe("/");
    const co = parseProcCgroup(V1_SELF);
    expect(co.v2).toBeNull();
    expect(co.v1.get("cpuacct")).toBe("/user.slice");
  });

  test("dirUnder maps a cgroup path through the mount's root", () => {
    const mount = { root: "/", mountpoint: "/sys/fs/cgroup", fstype: "cgroup2", superOptions: [] };
    expect(dirUnder(mount, "/")).toBe("/sys/fs/cgroup");
    expect(dirUnder(mount, "/a/b")).toBe("/sys/fs/cgroup/a/b");
    const sub = { ...mount, root: "/docker/x" };
    expect(dirUnder(sub, "/docker/x/job")).toBe("/sys/fs/cgroup/job");
    expect(dirUnder(sub, "/docker/x")).toBe("/sys/fs/cgroup");
    expect(dirUnder(sub, "/elsewhere")).toBeNull();
    expect(dirUnder(sub, "/docker/xy")).toBeNull();
  });
});

describe("layout, per controller", () => {
  test("hybrid host: cgroup2 mounted with only hugetlb does not make memory v2", () => {
    const l = layoutFrom(HYBRID_MOUNTS, HYBRID_SELF, "hugetlb\n");
    expect(l.v2?.dir).toBe("/sys/fs/cgroup/unified");
    for (const c of ["memory", "cpu", "cpuacct", "cpuset", "pids", "io", "freezer"] as const) {
      expect(l.controllers[c].version).toBe(1);
    }
    const mem = l.controllers.memory;
    expect(mem.version === 1 && mem.hierarchy.dir).toBe("/sys/fs/cgroup/memory/process_api/abc");
    const io = l.controllers.io;
    expect(io.version === 1 && io.hierarchy.mount).toBe("/sys/fs/cgroup/blkio");
    // the named systemd hierarchy carries no controller
    expect(l.v1.some((h) => h.mount.endsWith("systemd"))).toBe(false);
  });

  test("pure v2: every controller, cpu accounting and the freezer are v2", () => {
    const l = layoutFrom(V2_MOUNTS, V2_SELF, V2_ROOT);
    expect(l.v1).toEqual([]);
    for (const c of ["memory", "cpu", "cpuacct", "cpuset", "pids", "io", "freezer"] as const) {
      expect(l.controllers[c].version).toBe(2);
    }
    expect(l.v2?.dir).toBe("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
  });

  test("v2 whose root offers no memory controller: memory is missing, with the reason", () => {
    const l = layoutFrom(V2_MOUNTS, V2_SELF, "cpu pids\n");
    const mem = l.controllers.memory;
    expect(mem.version).toBe(0);
    expect(mem.version === 0 && mem.why).toContain("offers: cpu pids");
    expect(l.controllers.pids.version).toBe(2);
  });

  test("co-mounted cpu,cpuacct share one hierarchy; io is missing", () => {
    const l = layoutFrom(V1_MOUNTS, V1_SELF, "");
    const cpu = l.controllers.cpu;
    const acct = l.controllers.cpuacct;
    expect(cpu.version === 1 && acct.version === 1 && cpu.hierarchy === acct.hierarchy).toBe(true);
    expect(cpu.version === 1 && cpu.hierarchy.dir).toBe("/sys/fs/cgroup/cpu,cpuacct/user.slice");
    expect(l.controllers.io.version).toBe(0);
    expect(l.controllers.freezer.version).toBe(0);
  });

  test("no cgroups at all", () => {
    const l = layoutFrom("", "", "");
    expect(l.v2).toBeNull();
    expect(l.controllers.memory.version).toBe(0);
  });

  test("a cgroup namespace (container): own path '/' maps to the mount", () => {
    const mounts = "100 90 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw";
    const l = layoutFrom(mounts, "0::/\n", "memory pids");
    expect(l.v2?.dir).toBe("/sys/fs/cgroup");
    expect(l.controllers.memory.version).toBe(2);
  });
});
