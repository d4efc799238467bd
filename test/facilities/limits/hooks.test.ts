/** The supervisor's limit arithmetic: CPU-time polling, CPU split, the applied-limits report (no kernel). */
import { expect, test } from "bun:test";
import { NO_USAGE } from "../../../src/cgroup/stats.ts";
import { NO_LIMITS } from "../../../src/facilities/limits/fields.ts";
import { appliedLimits, cpuTime, nextCpuCheckMs, usableCpus } from "../../../src/facilities/limits/hooks.ts";

test("the next CPU check comes when the budget could first be spent, within 5ms..1s", () => {
  expect(nextCpuCheckMs(1000, 0, 2)).toBe(500);
  expect(nextCpuCheckMs(1000, 900, 2)).toBe(50);
  expect(nextCpuCheckMs(1000, 999, 4)).toBe(5);
  expect(nextCpuCheckMs(60_000, 0, 1)).toBe(1000);
});

test("usable CPUs shrink with --cpus and --cpuset", () => {
  const all = usableCpus(NO_LIMITS);
  expect(all).toBeGreaterThanOrEqual(1);
  expect(usableCpus({ ...NO_LIMITS, cpus: 0.5 })).toBe(1);
  expect(usableCpus({ ...NO_LIMITS, cpuset: "0" })).toBe(1);
  expect(usableCpus({ ...NO_LIMITS, cpus: 64 })).toBe(all);
});

test("CPU time: the rusage when it covers the cgroup's total, else the total split by the best ratio", () => {
  const rus = { userMs: 10, sysMs: 5 };
  expect(cpuTime(rus, null)).toEqual(rus);
  expect(cpuTime(rus, { ...NO_USAGE, cpuUs: 14_000 })).toEqual(rus);
  // killed sandbox: rusage missed most of it; the cgroup's split is tick-sampled
  expect(
    cpuTime({ userMs: 1, sysMs: 0 }, { ...NO_USAGE, cpuUs: 2_000_000, userUs: 1_500_000, sysUs: 500_000 }),
  ).toEqual({ userMs: 1500, sysMs: 500 });
  // no split known from the cgroup: the rusage's proportion
  expect(cpuTime({ userMs: 3, sysMs: 1 }, { ...NO_USAGE, cpuUs: 8000, userUs: 0, sysUs: 0 })).toEqual({
    userMs: 6,
    sysMs: 2,
  });
  expect(cpuTime({ userMs: 0, sysMs: 0 }, { ...NO_USAGE, cpuUs: 8000 })).toEqual({ userMs: 8, sysMs: 0 });
});

test("the report lists only the limits that were asked for", () => {
  expect(appliedLimits(NO_LIMITS)).toEqual({});
  expect(appliedLimits({ ...NO_LIMITS, memory: 5, timeoutMs: 1000 })).toEqual({ memory: 5, timeoutMs: 1000 });
});
