/**
 * Private tmpfs mounts have a size (issue 9): /tmp and /var/tmp half the
 * --memory limit, else 25% of RAM; /dev/shm 64M; --tmpfs DST without a size
 * as /tmp. Filling one gives ENOSPC inside, and its pages are charged to the
 * sandbox's memory cgroup: a tmpfs larger than --memory ends in an OOM kill,
 * not in host memory.
 */
import { describe, expect, test } from "bun:test";
import { totalmem } from "node:os";
import { IS_ROOT, needs, type RunOpts, isolate as run, SCRATCH } from "../../helpers/index.ts";

const MiB = 1024 * 1024;

/** From the shared scratch dir: a caller in /tmp would see its own /tmp bound over the private one. */
const isolate = (args: string[], opts: RunOpts = {}) => run(args, { cwd: SCRATCH, ...opts });
const PAGE = 4096;

/** Each mount's size in bytes, as statfs reports it inside. */
async function sizes(args: string[], paths: string[], nobody = false): Promise<Record<string, number>> {
  const r = await isolate(["exec", ...args, "--", "stat", "-f", "-c", "%n %b %S", ...paths], { nobody });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const out: Record<string, number> = {};
  for (const line of r.stdout.trim().split("\n")) {
    const [name, blocks, bsize] = line.split(" ");
    out[name ?? ""] = Number(blocks) * Number(bsize);
  }
  return out;
}

/** tmpfs's own rounding of "size=25%": a quarter of RAM's pages. */
const quarterOfRam = Math.floor(Math.floor(totalmem() / PAGE) / 4) * PAGE;

describe("default sizes", () => {
  for (const nobody of IS_ROOT ? [false, true] : [false]) {
    const who = nobody ? "nobody" : "the caller";
    test(`${who}: /tmp, /var/tmp and --tmpfs /mnt are 25% of RAM, /dev/shm 64M`, async () => {
      const s = await sizes(["--tmpfs", "/mnt"], ["/tmp", "/var/tmp", "/dev/shm", "/mnt"], nobody);
      for (const p of ["/tmp", "/var/tmp", "/mnt"]) {
        // totalmem() is the same sysinfo figure; allow a page or two of rounding.
        expect([p, Math.abs((s[p] ?? 0) - quarterOfRam) <= 2 * PAGE]).toEqual([p, true]);
      }
      expect(s["/dev/shm"]).toBe(64 * MiB);
    });

    test(`${who}: --tmpfs DST:SIZE keeps its size, and filling it gives ENOSPC inside`, async () => {
      const r = await isolate(
        ["exec", "--tmpfs", "/mnt:1M", "--", "sh", "-c", "dd if=/dev/zero of=/mnt/f bs=64k count=32 2>&1; echo dd=$?"],
        { nobody },
      );
      expect(r.stdout).toContain("No space left on device");
      expect(r.stdout).toContain("dd=1");
    });
  }
});

const root = needs(IS_ROOT, "root (--memory needs a cgroup)");

describe("tied to --memory", () => {
  root("--memory 64M: /tmp, /var/tmp and --tmpfs /mnt are 32M, /dev/shm stays 64M", async () => {
    const s = await sizes(["--memory", "64M", "--tmpfs", "/mnt"], ["/tmp", "/var/tmp", "/dev/shm", "/mnt"]);
    expect(s).toEqual({ "/tmp": 32 * MiB, "/var/tmp": 32 * MiB, "/dev/shm": 64 * MiB, "/mnt": 32 * MiB });
  });

  root("--memory 64M: writing 100M to /tmp gives ENOSPC inside; the host is fine", async () => {
    const r = await isolate([
      "exec",
      "--memory",
      "64M",
      "--json",
      "--",
      "sh",
      "-c",
      "dd if=/dev/zero of=/tmp/f bs=1M count=100 2>&1; echo dd=$?; stat -c %s /tmp/f",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No space left on device");
    expect(r.stdout).toContain("dd=1");
    expect(r.stdout.trim().split("\n").at(-1)).toBe(String(32 * MiB));
  });

  root("tmpfs pages count against --memory: a --tmpfs larger than the limit ends in an OOM kill", async () => {
    const r = await isolate([
      "exec",
      "--memory",
      "64M",
      "--tmpfs",
      "/mnt:1G",
      "--json",
      "--",
      "sh",
      "-c",
      "dd if=/dev/zero of=/mnt/f bs=1M count=200 2>/dev/null; echo dd=$?",
    ]);
    // dd is the writer and is killed (SIGKILL: 137 from sh); the report says oom.
    expect(r.stdout).toContain("dd=137");
    const report = JSON.parse(r.stderr);
    expect(report.limits.oomKills).toBeGreaterThanOrEqual(1);
    expect(report.reason).toBe("oom");
  });
});
