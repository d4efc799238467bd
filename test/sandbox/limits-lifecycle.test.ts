/**
 * Every run gets fresh cgroups (no limits or counters carried over), and
 * every cgroup is gone when `exited` resolves: after normal ends, failures,
 * kills, 200 sequential and 50 concurrent runs.
 */
import { describe, expect } from "bun:test";
import { existsSync } from "node:fs";
import { run, spawn } from "../../src/index.ts";
import { isolateCgroups, SLOW, withCgroups } from "../limits-helpers.ts";

const MB = 1 << 20;
const mine = () => isolateCgroups([process.pid]);

describe("fresh cgroups per run", () => {
  withCgroups(
    "two consecutive runs never share limits or counters",
    async () => {
      const first = await run({
        command: [
          "sh",
          "-c",
          "head -c 40M /dev/zero | tail >/dev/null; for i in 1 2 3 4 5 6 7 8; do sleep 0.2 & done; wait",
        ],
        limits: { memory: "64M", pids: 6, cpuTime: "10s" },
      });
      expect(first.limits.fired).toContain("pids");
      expect(first.memoryPeakBytes ?? 0).toBeGreaterThan(30 * MB);

      const second = await run({
        command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1 & done; wait; echo forked"],
        limits: { memory: "256M", pids: 100, cpuTime: "10s" },
      });
      expect(second.stdout).toBe("forked\n");
      expect(second.limits.fired).toEqual([]);
      expect(second.limits.pidsRefused).toBe(0);
      expect(second.memoryPeakBytes ?? Infinity).toBeLessThan(20 * MB);
      expect(second.pidsPeak ?? 0).toBeGreaterThanOrEqual(11);
      expect(second.cpu.userMs + second.cpu.sysMs).toBeLessThan(first.cpu.userMs + first.cpu.sysMs + 500);
      expect(second.limits.applied).toMatchObject({ memory: 256 * MB, pids: 100 });
      const a = first.limits.cgroup?.paths ?? [];
      const b = second.limits.cgroup?.paths ?? [];
      expect(a.length).toBeGreaterThan(0);
      for (const p of b) expect(a).not.toContain(p);
      for (const p of [...a, ...b]) expect(existsSync(p)).toBe(false);
    },
    60_000 * SLOW,
  );
});

describe("nothing left behind", () => {
  withCgroups(
    "a failed exec, a kill() and a timeout each remove their cgroups",
    async () => {
      const missing = await run({ command: ["/nonexistent/cmd"], limits: { memory: "64M", pids: 10 } });
      expect(missing.exitCode).toBe(127);
      expect(missing.reason).toBe("exec");

      const sb = spawn({ command: ["sleep", "1000"], limits: { memory: "64M", pids: 10 } }, { stdout: "null" });
      await Bun.sleep(100);
      sb.kill("SIGKILL");
      const killed = await sb.exited;
      expect(killed.reason).toBe("killed");

      const timed = await run({ command: ["sleep", "1000"], limits: { timeout: "200ms", pids: 10 }, killAfter: 0 });
      expect(timed.reason).toBe("timeout");

      for (const r of [missing, killed, timed]) {
        expect(r.limits.cgroup?.paths.length ?? 0).toBeGreaterThan(0);
        for (const p of r.limits.cgroup?.paths ?? []) expect(existsSync(p)).toBe(false);
      }
      expect(mine()).toEqual([]);
    },
    60_000 * SLOW,
  );

  withCgroups(
    "200 sequential and 50 concurrent limited runs leave no isolate cgroup in any hierarchy",
    async () => {
      const limits = { memory: "64M", pids: 32, cpuTime: "5s", timeout: "60s" };
      for (let i = 0; i < 200; i++) {
        const r = await run({ command: ["true"], limits });
        expect(r.exitCode).toBe(0);
      }
      expect(mine()).toEqual([]);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => run({ command: ["sh", "-c", `echo ${i}`], limits })),
      );
      results.forEach((r, i) => {
        expect(r.stdout).toBe(`${i}\n`);
        expect(r.reason).toBe("ok");
      });
      const paths = new Set(results.flatMap((r) => r.limits.cgroup?.paths ?? []));
      expect(paths.size).toBeGreaterThanOrEqual(50);
      expect(mine()).toEqual([]);
    },
    600_000 * SLOW,
  );
});
