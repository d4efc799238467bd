/**
 * --memory: a hog is OOM-killed and the run reads `oom`, whether the hog is
 * the command, a child the command survives, or a tmpfs being filled.
 */
import { describe, expect } from "bun:test";
import { existsSync } from "node:fs";
import { run } from "../../../src/index.ts";
import { SLOW, withCgroups } from "../../helpers/limits.ts";

const MB = 1 << 20;
const hog = "head -c 200M /dev/zero | tail > /dev/null";

describe("--memory 64M", () => {
  withCgroups(
    "a single process over the limit is killed; reason oom, not a bare SIGKILL",
    async () => {
      // exec: the hog is the command itself (tail holds 200M of one line).
      const r = await run({ command: ["sh", "-c", `exec tail /dev/zero`], limits: { memory: "64M" } });
      expect(r.reason).toBe("oom");
      expect(r.status).toMatchObject({ type: "signaled", signal: 9 });
      expect(r.exitCode).toBe(137);
      expect(r.limits.fired).toContain("memory");
      expect(r.limits.oomKills).toBeGreaterThanOrEqual(1);
      expect(r.limits.applied).toMatchObject({ memory: 64 * MB });
      expect(r.memoryPeakBytes).toBeGreaterThan(32 * MB);
      expect(r.memoryPeakBytes).toBeLessThanOrEqual(64 * MB);
      for (const p of r.limits.cgroup?.paths ?? []) expect(existsSync(p)).toBe(false);
    },
    60_000 * SLOW,
  );

  withCgroups(
    "a child of the command is killed and the command survives: still oom",
    async () => {
      const r = await run({
        command: ["sh", "-c", `sh -c '${hog}'; echo "child status $?"; exit 0`],
        limits: { memory: "64M" },
      });
      expect(r.stdout).toContain("child status 137");
      expect(r.status).toEqual({ type: "exited", code: 0 });
      expect(r.exitCode).toBe(0);
      expect(r.reason).toBe("oom");
      expect(r.limits.fired).toEqual(["memory"]);
    },
    60_000 * SLOW,
  );

  withCgroups(
    "filling a tmpfs counts against the limit and is reported as oom",
    async () => {
      // The sandbox's own /dev/shm: a private tmpfs, gone with the sandbox.
      const r = await run({
        command: ["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=300 2>/dev/null; echo dd=$?"],
        limits: { memory: "64M" },
      });
      expect(r.reason).toBe("oom");
      expect(r.limits.oomKills).toBeGreaterThanOrEqual(1);
      expect(r.stdout).not.toContain("dd=0");
    },
    60_000 * SLOW,
  );

  withCgroups(
    "under the limit nothing fires and the peak is the cgroup's",
    async () => {
      const r = await run({
        command: ["sh", "-c", "head -c 20M /dev/zero | tail > /dev/null; echo ok"],
        limits: { memory: "64M" },
      });
      expect(r.reason).toBe("ok");
      expect(r.stdout).toBe("ok\n");
      expect(r.limits.fired).toEqual([]);
      expect(r.memoryPeakBytes).toBeGreaterThan(15 * MB);
      expect(r.memoryPeakBytes).toBeLessThan(64 * MB);
    },
    60_000 * SLOW,
  );
});
