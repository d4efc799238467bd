/**
 * Every limit reaches the kernel: the sandbox's own cgroup files, read back
 * while it runs (whichever backend serves each controller), and the effect
 * where one is cheap to see.
 */
import { describe, expect } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { V1_NAME } from "../../../src/cgroup/detect.ts";
import { CgroupError, run, type SpecInput, spawn } from "../../../src/index.ts";
import { IS_ROOT } from "../../helpers/index.ts";
import { LAYOUT, laneRequires, SLOW, withCgroups } from "../../helpers/limits.ts";

type Dirs = Map<string, string>;

/** The sandbox's cgroup directory per controller, from /proc/PID/cgroup. */
function dirsOf(pid: number): Dirs {
  const dirs: Dirs = new Map();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n")) {
    const [, list = "", path = ""] = line.split(":");
    if (list === "" && LAYOUT.v2) dirs.set("v2", `${LAYOUT.v2.mount}${path}`);
    for (const c of list.split(",")) {
      const h = LAYOUT.v1.find((x) => x.controllers.includes(c));
      if (h) dirs.set(c, `${h.mount}${path}`);
    }
  }
  return dirs;
}

/** A cgroup file of controller `c` (its v1 name) or the v2 one, whichever the sandbox uses. */
function file(dirs: Dirs, c: keyof typeof V1_NAME, v1: string, v2: string): string {
  const place = LAYOUT.controllers[c];
  const path = place.version === 1 ? `${dirs.get(V1_NAME[c])}/${v1}` : `${dirs.get("v2")}/${v2}`;
  return readFileSync(path, "utf8").trim();
}

/** Spawn a sleeper with `limits`, hand its cgroup dirs to `check`, then end it. */
async function whileRunning(limits: SpecInput["limits"], check: (d: Dirs) => void): Promise<void> {
  const sb = spawn({ command: ["sleep", "60"], limits }, { stdout: "null", stderr: "null" });
  try {
    check(dirsOf(await sb.ready));
  } finally {
    sb.kill("SIGKILL");
    const r = await sb.exited;
    for (const p of r.limits.cgroup?.paths ?? []) expect(existsSync(p)).toBe(false);
  }
}

function readable(name: string): boolean {
  try {
    closeSync(openSync(`/dev/${name}`, "r"));
    return true;
  } catch {
    return false;
  }
}

/** The first whole disk of this machine, as [name, MAJ:MIN], or null. */
function firstDisk(): [string, string] | null {
  for (const name of readdirSync("/sys/block").sort()) {
    if (/^(loop|ram|zram|dm-|sr|md)/.test(name)) continue;
    const size = Number(readFileSync(`/sys/block/${name}/size`, "utf8"));
    if (size > 0 && existsSync(`/dev/${name}`)) return [name, readFileSync(`/sys/block/${name}/dev`, "utf8").trim()];
  }
  return null;
}

describe("limits in the cgroup files", () => {
  withCgroups(
    "--cpus, --cpu-weight, --pids, --memory",
    async () => {
      await whileRunning({ cpus: 0.5, cpuWeight: 200, pids: 42, memory: "100M" }, (d) => {
        if (LAYOUT.controllers.cpu.version === 1) {
          expect(file(d, "cpu", "cpu.cfs_quota_us", "")).toBe("50000");
          expect(file(d, "cpu", "cpu.cfs_period_us", "")).toBe("100000");
          expect(file(d, "cpu", "cpu.shares", "")).toBe("5219");
        } else {
          expect(file(d, "cpu", "", "cpu.max")).toBe("50000 100000");
          expect(file(d, "cpu", "", "cpu.weight")).toBe("200");
        }
        expect(file(d, "pids", "pids.max", "pids.max")).toBe("42");
        expect(file(d, "memory", "memory.limit_in_bytes", "memory.max")).toBe(String(100 << 20));
      });
    },
    30_000 * SLOW,
  );

  withCgroups(
    "--memory-swap sets memory plus swap, or fails closed naming swap accounting",
    async () => {
      const limits = { memory: "64M", memorySwap: "96M" };
      try {
        await whileRunning(limits, (d) => {
          if (LAYOUT.controllers.memory.version === 1) {
            expect(file(d, "memory", "memory.memsw.limit_in_bytes", "")).toBe(String(96 << 20));
          } else expect(file(d, "memory", "", "memory.swap.max")).toBe(String(32 << 20));
        });
      } catch (e) {
        expect(e).toBeInstanceOf(CgroupError);
        expect((e as Error).message).toStartWith("limits.memorySwap: cannot be enforced");
        expect((e as CgroupError).hint).toContain("swap accounting");
      }
    },
    30_000 * SLOW,
  );

  withCgroups(
    "--cpuset confines the sandbox to those CPUs",
    async () => {
      const r = await run({ command: ["grep", "Cpus_allowed_list", "/proc/self/status"], limits: { cpuset: "0" } });
      expect(r.stdout).toMatch(/^Cpus_allowed_list:\s+0\n$/);
      await whileRunning({ cpuset: "0" }, (d) => {
        expect(file(d, "cpuset", "cpuset.cpus", "cpuset.cpus")).toBe("0");
      });
    },
    30_000 * SLOW,
  );

  const disk = firstDisk();
  withCgroups(
    `--io-read-bps and --io-write-bps on a disk (${disk?.[0] ?? "none"})`,
    async () => {
      if (!disk) throw new Error("no block device on this machine");
      const [name, dev] = disk;
      await whileRunning({ ioReadBps: [`/dev/${name}:1M`], ioWriteBps: [`${dev}:2M`] }, (d) => {
        if (LAYOUT.controllers.io.version === 1) {
          expect(file(d, "io", "blkio.throttle.read_bps_device", "")).toBe(`${dev} 1048576`);
          expect(file(d, "io", "blkio.throttle.write_bps_device", "")).toBe(`${dev} 2097152`);
        } else {
          expect(file(d, "io", "", "io.max")).toBe(`${dev} rbps=1048576 wbps=2097152 riops=max wiops=max`);
        }
      });
    },
    30_000 * SLOW,
  );

  laneRequires(IS_ROOT && disk !== null && readable(disk[0]), "a disk this process may read")(
    `--io-read-bps holds direct reads of ${disk?.[0] ?? "a disk"} near the rate`,
    async () => {
      const name = disk?.[0] ?? "";
      // 3 MiB of direct reads at 1 MiB/s take about 2-3 s (a first burst may pass at once).
      const r = await run({
        command: ["dd", `if=/dev/${name}`, "of=/dev/null", "bs=64k", "count=48", "iflag=direct"],
        mounts: [{ type: "dev-bind", src: `/dev/${name}` }],
        limits: { ioReadBps: [`/dev/${name}:1M`] },
        // The raw disk is root's (0660): reading it takes host root, not root's mapped default.
        userns: "host",
      });
      expect(r.stderr).toContain("3145728 bytes");
      expect(r.exitCode).toBe(0);
      expect(r.wallMs).toBeGreaterThan(1500);
    },
    60_000 * SLOW,
  );

  withCgroups(
    "--io-weight is written where the kernel has a weight, else fails closed",
    async () => {
      try {
        await whileRunning({ ioWeight: 100 }, (d) => {
          const v1 = LAYOUT.controllers.io.version === 1;
          const dir = v1 ? d.get("blkio") : d.get("v2");
          const candidates = v1 ? ["blkio.bfq.weight", "blkio.weight"] : ["io.weight", "io.bfq.weight"];
          const f = candidates.find((c) => existsSync(`${dir}/${c}`));
          expect(f).toBeDefined();
          expect(readFileSync(`${dir}/${f}`, "utf8")).toMatch(/(^|default )100\b/);
        });
      } catch (e) {
        expect(e).toBeInstanceOf(CgroupError);
        expect((e as Error).message).toStartWith("limits.ioWeight: cannot be enforced");
      }
    },
    30_000 * SLOW,
  );
});
