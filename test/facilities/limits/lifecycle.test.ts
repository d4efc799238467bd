/**
 * Every run gets fresh cgroups (no limits or counters carried over), and
 * every cgroup is gone when `exited` resolves: after normal ends, failures,
 * kills, 200 sequential and 50 concurrent runs.
 */
import { describe, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { run, spawn } from "../../../src/index.ts";
import { marker, pidsWith, waitFor } from "../../helpers/index.ts";
import { isolateCgroups, SLOW, withCgroups } from "../../helpers/limits.ts";

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
        limits: { memory: "64M", pids: 6, cpuTime: "60s" },
      });
      expect(first.limits.fired).toContain("pids");
      expect(first.memoryPeakBytes ?? 0).toBeGreaterThan(30 * MB);

      const second = await run({
        command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1 & done; wait; echo forked"],
        limits: { memory: "256M", pids: 100, cpuTime: "60s" },
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

describe("placement and killing", () => {
  withCgroups(
    "the init is in every one of the sandbox's cgroups before it runs anything",
    async () => {
      const sb = spawn({ command: ["sleep", "100"], limits: { memory: "64M", pids: 10, cpuTime: "10s" } });
      // `ready` resolves after placement and GO: the cgroup lines already name the sandbox's cgroup.
      const lines = readFileSync(`/proc/${await sb.ready}/cgroup`, "utf8")
        .trim()
        .split("\n");
      sb.kill("SIGKILL");
      const r = await sb.exited;
      const own = new RegExp(`/isolate-${process.pid}-\\d+$`);
      const used = r.limits.cgroup?.versions ?? {};
      const v2 = Object.values(used).includes("v2");
      const placed = lines.filter((l) => own.test(l));
      if (v2) expect(placed.some((l) => l.startsWith("0::"))).toBe(true);
      for (const c of Object.keys(used).filter((c) => used[c] === "v1")) {
        expect(placed.some((l) => l.split(":")[1]?.split(",").includes(c))).toBe(true);
      }
      expect(placed.length).toBeGreaterThan(0);
    },
    30_000 * SLOW,
  );

  withCgroups(
    "without a pid namespace, a timeout still kills processes that left the session (through the cgroup)",
    async () => {
      const mark = marker();
      const r = await run({
        command: ["sh", "-c", `setsid sh -c 'sleep 1000; : ${mark}' & sleep 1000`],
        share: ["pid"],
        limits: { pids: 20, timeout: "500ms" },
        killAfter: 0,
      });
      expect(r.reason).toBe("timeout");
      expect(await waitFor(async () => (await pidsWith(mark)).length === 0, 3000 * SLOW)).toBe(true);
    },
    30_000 * SLOW,
  );
});
