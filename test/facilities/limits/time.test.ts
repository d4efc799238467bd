/**
 * --timeout ends the whole sandbox whatever its processes do; --cpu-time
 * counts every process of it; --cpus holds a busy loop near its share.
 */
import { describe, expect, test } from "bun:test";
import { run } from "../../../src/index.ts";
import { SLOW, withCgroups } from "../../helpers/limits.ts";

const GRACE = 500;
const SLACK = 1500 * SLOW;
/** Emulation (the VM lane) lets more than the quota through. */
const CPUS_MAX_RATIO = SLOW > 1 ? 0.85 : 0.7;

describe("--timeout 1s (kill-after 500ms)", () => {
  const cases: [string, string[]][] = [
    ["a busy loop", ["sh", "-c", "while :; do :; done"]],
    ["sleep 1000", ["sleep", "1000"]],
    ["a self-stopped process", ["sh", "-c", "kill -STOP $$; echo resumed"]],
    ["a SIGTERM-ignoring process", ["sh", "-c", "trap '' TERM; while :; do :; done"]],
    ["a SIGTERM-ignoring grandchild", ["sh", "-c", "sh -c 'trap \"\" TERM; while :; do sleep 0.1; done' & wait"]],
  ];
  for (const [what, command] of cases) {
    test(
      `ends ${what} within 1s plus the grace, as timeout`,
      async () => {
        const t0 = performance.now();
        const r = await run({ command, limits: { timeout: "1s" }, killAfter: `${GRACE}ms` });
        const wall = performance.now() - t0;
        expect(r.reason).toBe("timeout");
        expect(r.limits.fired).toEqual(["timeout"]);
        expect(r.status.type).toBe("signaled");
        expect(r.stdout).toBe("");
        expect(wall).toBeGreaterThanOrEqual(1000);
        expect(wall).toBeLessThan(1000 + GRACE + SLACK);
      },
      30_000 * SLOW,
    );
  }

  test("a command that ends in time is not touched", async () => {
    const r = await run({ command: ["sh", "-c", "echo done"], limits: { timeout: "5s" } });
    expect(r.reason).toBe("ok");
    expect(r.exitCode).toBe(0);
    expect(r.limits.fired).toEqual([]);
    expect(r.limits.applied).toEqual({ timeoutMs: 5000 });
  });

  withCgroups(
    "a killed run still reports the CPU its processes used (from the cgroup)",
    async () => {
      const r = await run({
        command: ["sh", "-c", "while :; do :; done"],
        limits: { timeout: "1s" },
        killAfter: 0,
      });
      expect(r.reason).toBe("timeout");
      expect(r.cpu.userMs + r.cpu.sysMs).toBeGreaterThan(300);
    },
    30_000 * SLOW,
  );
});

describe("--cpu-time", () => {
  withCgroups(
    "1s over 2 busy processes ends at about 1s of summed CPU, not 2",
    async () => {
      const r = await run({
        command: ["sh", "-c", "while :; do :; done & while :; do :; done"],
        limits: { cpuTime: "1s" },
      });
      const cpu = r.cpu.userMs + r.cpu.sysMs;
      expect(r.reason).toBe("cpu-time");
      expect(r.limits.fired).toEqual(["cpu-time"]);
      expect(r.exitCode).toBe(137);
      expect(cpu).toBeGreaterThanOrEqual(1000);
      expect(cpu).toBeLessThan(1000 + 400 * SLOW);
      // both processes burned it: less wall than CPU, unless the host was busy
      expect(r.wallMs).toBeLessThan(5000 * SLOW);
    },
    30_000 * SLOW,
  );

  withCgroups(
    "a command within its CPU budget ends normally",
    async () => {
      const r = await run({ command: ["sh", "-c", "sleep 0.3; echo ok"], limits: { cpuTime: "1s" } });
      expect(r.reason).toBe("ok");
      expect(r.stdout).toBe("ok\n");
    },
    30_000 * SLOW,
  );
});

describe("--cpus 0.5", () => {
  withCgroups(
    "holds a busy loop near half a CPU (cgroup CPU time against wall time)",
    async () => {
      const r = await run({
        command: ["sh", "-c", "while :; do :; done"],
        limits: { cpus: "0.5", timeout: "2s" },
        killAfter: 0,
      });
      const ratio = (r.cpu.userMs + r.cpu.sysMs) / r.wallMs;
      expect(r.reason).toBe("timeout");
      // Loose: CFS throttles per 100ms period.
      expect(ratio).toBeGreaterThan(0.3);
      expect(ratio).toBeLessThan(CPUS_MAX_RATIO);
    },
    30_000 * SLOW,
  );
});
