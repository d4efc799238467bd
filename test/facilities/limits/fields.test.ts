/** Limit values in the Spec: accepted spellings, and malformed ones refused before anything exists. */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import { parseCount, parseCpuList, parseDecimal } from "../../../src/config/units.ts";
import { SpecError } from "../../../src/errors.ts";

const limits = (l: Record<string, unknown>) => parseSpec({ command: ["true"], limits: l }).limits;
const refuse = (l: Record<string, unknown>) => {
  try {
    limits(l);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(l)}`);
};

describe("accepted spellings", () => {
  test("sizes, cpus, counts, lists, durations, as strings or numbers", () => {
    const l = limits({
      memory: "64M",
      memorySwap: "1.5g",
      cpus: "0.5",
      cpuWeight: "200",
      cpuset: "3,0-1",
      pids: 64,
      ioWeight: 10,
      ioReadBps: ["8:0:10M", { device: "/dev/sda", rate: 4096 }],
      ioWriteBps: ["/dev/vda:1k"],
      rlimits: ["nofile=16", "core=0:unlimited", { name: "fsize", soft: "1M" }],
      timeout: "1.5s",
      cpuTime: 2000,
    });
    expect(l.memory).toBe(64 << 20);
    expect(l.memorySwap).toBe(1.5 * 2 ** 30);
    expect(l.cpus).toBe(0.5);
    expect(l.cpuWeight).toBe(200);
    expect(l.cpuset).toBe("0-1,3");
    expect(l.pids).toBe(64);
    expect(l.ioReadBps).toEqual([
      { device: "8:0", bytesPerSecond: 10 << 20 },
      { device: "/dev/sda", bytesPerSecond: 4096 },
    ]);
    expect(l.ioWriteBps).toEqual([{ device: "/dev/vda", bytesPerSecond: 1024 }]);
    expect(l.rlimits).toEqual([
      { name: "nofile", resource: 7, soft: 16, hard: 16 },
      { name: "core", resource: 4, soft: 0, hard: "unlimited" },
      { name: "fsize", resource: 1, soft: 1 << 20, hard: 1 << 20 },
    ]);
    expect(l.timeoutMs).toBe(1500);
    expect(l.cpuTimeMs).toBe(2000);
  });

  test("no limits by default", () => {
    const l = parseSpec({ command: ["true"] }).limits;
    expect(l.memory).toBeUndefined();
    expect(l.rlimits).toEqual([]);
  });

  test("a later rlimit of the same resource replaces the earlier one", () => {
    expect(limits({ rlimits: ["nofile=8", "core=0", "nofile=32:64"] }).rlimits.map((r) => [r.name, r.soft])).toEqual([
      ["core", 0],
      ["nofile", 32],
    ]);
  });

  test("unit parsers", () => {
    expect(parseCount("007")).toBe(7);
    expect(parseDecimal("2")).toBe(2);
    expect(parseCpuList("0,1,2,5-6,4")).toEqual({ list: "0-2,4-6", cpus: [0, 1, 2, 4, 5, 6] });
  });
});

describe("malformed values give SpecError (exit 125) naming the field", () => {
  const cases: [string, unknown, string][] = [
    ["memory", "", "not a size"],
    ["memory", "0", "at least 1M"],
    ["memory", "-1", "not a size"],
    ["memory", "12abc", "not a size"],
    ["memory", "1e9", "not a size"],
    ["memory", "18446744073709551617", "too large"],
    ["memory", "99999999999T", "too large"],
    ["memory", -1, "negative"],
    ["memory", 1.5, "whole number"],
    ["memory", Number.NaN, "must be a number"],
    ["memory", 2 ** 64, "out of range"],
    ["cpus", "0", "between 0.01"],
    ["cpus", "-1", "not a decimal"],
    ["cpus", "1e3", "not a decimal"],
    ["cpus", "", "not a decimal"],
    ["cpus", "9000", "between 0.01"],
    ["cpuWeight", "0", "between 1 and 10000"],
    ["cpuWeight", "1.5", "not a whole number"],
    ["pids", "0", "at least 2"],
    ["pids", "", "not a whole number"],
    ["pids", "64k", "not a whole number"],
    ["pids", "18446744073709551617", "too large"],
    ["ioWeight", "10001", "between 1 and 10000"],
    ["cpuset", "", "not a cpu list"],
    ["cpuset", "3-1", "backwards"],
    ["cpuset", "0,,1", "not a cpu list"],
    ["cpuset", "99999", "above"],
    ["timeout", "0", "more than 0"],
    ["timeout", "", "not a duration"],
    ["timeout", "-1s", "not a duration"],
    ["timeout", "1e9", "not a duration"],
    ["timeout", "9999999999999999999h", "too large"],
    ["cpuTime", 0, "more than 0"],
  ];
  for (const [field, value, why] of cases) {
    test(`${field} ${JSON.stringify(value)}`, () => {
      const msg = refuse({ [field]: value });
      expect(msg).toContain(`limits.${field}`);
      expect(msg).toContain(why);
    });
  }

  test("io bandwidth entries", () => {
    expect(refuse({ ioReadBps: ["8:0"] })).toContain("not DEV:RATE");
    expect(refuse({ ioReadBps: ["8:0:fast"] })).toContain("not a size");
    expect(refuse({ ioReadBps: ["sda:1M"] })).toContain("not DEV:RATE");
    expect(refuse({ ioReadBps: [{ device: "sda", rate: "1M" }] })).toContain("not a device");
    expect(refuse({ ioReadBps: ["8:0:0"] })).toContain("more than 0");
    expect(refuse({ ioReadBps: ["10M"] })).toContain("not DEV:RATE");
    expect(refuse({ ioWriteBps: [{ device: "8:0", rate: -5 }] })).toContain("more than 0");
    expect(refuse({ ioWriteBps: [{ device: "8:0", rate: 1.5 }] })).toContain("whole number of bytes");
  });

  test("rlimits", () => {
    expect(refuse({ rlimits: ["nofile"] })).toContain("NAME=SOFT");
    expect(refuse({ rlimits: ["bogus=1"] })).toContain("unknown resource");
    expect(refuse({ rlimits: ["nofile=-1"] })).toContain("not a whole number");
    expect(refuse({ rlimits: ["nofile=16:8"] })).toContain("above the hard limit");
    expect(refuse({ rlimits: ["nofile=unlimited:8"] })).toContain("above the hard limit");
    expect(refuse({ rlimits: ["nofile=1M"] })).toContain("not a whole number");
    expect(refuse({ rlimits: ["nofile=18446744073709551616"] })).toContain("too large");
    expect(limits({ rlimits: ["as=1G"] }).rlimits[0]?.soft).toBe(2 ** 30);
  });

  test("memory-swap needs memory and may not be below it", () => {
    // The library names the Spec field; the CLI renders it as --memory (test/config/errors.test.ts).
    expect(refuse({ memorySwap: "1G" })).toContain("needs limits.memory");
    expect(refuse({ memory: "1G", memorySwap: "512M" })).toContain("must not be below");
  });

  test("unknown limit names are refused", () => {
    expect(refuse({ memroy: "1G" })).toContain("limits");
  });
});
