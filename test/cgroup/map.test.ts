/** The pure limit -> cgroup file tables of both backends (no kernel). */
import { describe, expect, test } from "bun:test";
import { v1Writes } from "../../src/cgroup/map-v1.ts";
import { v2Writes } from "../../src/cgroup/map-v2.ts";
import { parseKeyed, parseNumber, parsePids } from "../../src/cgroup/stats.ts";
import {
  type CgroupWrite,
  controllersFor,
  cpuQuotaUs,
  ioWeightToBfq,
  ioWeightToBlkio,
  weightToShares,
} from "../../src/cgroup/writes.ts";
import { type Limits, NO_LIMITS } from "../../src/facilities/limits/fields.ts";

const L = (over: Partial<Limits>): Limits => ({ ...NO_LIMITS, ...over });
const files = (ws: CgroupWrite[]) =>
  ws.map((w) => `${w.files.map(([f, v]) => `${f}=${v}`).join("|")}${w.optional ? "?" : ""}`);

describe("cgroup v2 table", () => {
  test("nothing asked, nothing written", () => {
    expect(v2Writes(NO_LIMITS)).toEqual([]);
  });

  test("memory: memory.max, and no swap beyond it unless --memory-swap (best effort)", () => {
    expect(files(v2Writes(L({ memory: 64 << 20 })))).toEqual(["memory.max=67108864", "memory.swap.max=0?"]);
    expect(files(v2Writes(L({ memory: 64 << 20, memorySwap: 96 << 20 })))).toEqual([
      "memory.max=67108864",
      "memory.swap.max=33554432",
    ]);
    const swap = v2Writes(L({ memory: 1 << 20, memorySwap: 2 << 20 }))[1];
    expect(swap?.limit).toBe("memorySwap");
    expect(swap?.optional).toBeUndefined();
  });

  test("cpus -> cpu.max quota/period, weight -> cpu.weight", () => {
    expect(files(v2Writes(L({ cpus: 0.5, cpuWeight: 200 })))).toEqual(["cpu.max=50000 100000", "cpu.weight=200"]);
    expect(files(v2Writes(L({ cpus: 1.5 })))).toEqual(["cpu.max=150000 100000"]);
    expect(files(v2Writes(L({ cpus: 0.001 })))).toEqual(["cpu.max=1000 100000"]);
  });

  test("cpuset, pids", () => {
    expect(files(v2Writes(L({ cpuset: "0-1,3", pids: 64 })))).toEqual(["cpuset.cpus=0-1,3", "pids.max=64"]);
  });

  test("io weight tries io.weight then io.bfq.weight; bandwidths join per device", () => {
    expect(files(v2Writes(L({ ioWeight: 2000 })))).toEqual(["io.weight=default 2000|io.bfq.weight=default 1000"]);
    const w = v2Writes(
      L({
        ioReadBps: [
          { device: "8:0", bytesPerSecond: 1000 },
          { device: "8:16", bytesPerSecond: 5 },
        ],
        ioWriteBps: [{ device: "8:0", bytesPerSecond: 2000 }],
      }),
    );
    expect(files(w)).toEqual(["io.max=8:0 rbps=1000 wbps=2000", "io.max=8:16 rbps=5"]);
    expect(files(v2Writes(L({ ioWriteBps: [{ device: "253:1", bytesPerSecond: 7 }] })))).toEqual([
      "io.max=253:1 wbps=7",
    ]);
  });

  test("every write names its controller and the limit it enforces", () => {
    const all = v2Writes(
      L({
        memory: 1 << 20,
        cpus: 1,
        cpuWeight: 5,
        cpuset: "0",
        pids: 3,
        ioWeight: 5,
        ioReadBps: [{ device: "1:2", bytesPerSecond: 1 }],
      }),
    );
    expect(all.map((w) => [w.controller, w.limit])).toEqual([
      ["memory", "memory"],
      ["memory", "memory"],
      ["cpu", "cpus"],
      ["cpu", "cpuWeight"],
      ["cpuset", "cpuset"],
      ["pids", "pids"],
      ["io", "ioWeight"],
      ["io", "ioReadBps"],
    ]);
  });
});

describe("cgroup v1 table", () => {
  test("memory before memsw (memsw may never be below it); memsw = memory unless asked", () => {
    expect(files(v1Writes(L({ memory: 64 << 20 })))).toEqual([
      "memory.limit_in_bytes=67108864",
      "memory.memsw.limit_in_bytes=67108864?",
    ]);
    expect(files(v1Writes(L({ memory: 64 << 20, memorySwap: 96 << 20 })))).toEqual([
      "memory.limit_in_bytes=67108864",
      "memory.memsw.limit_in_bytes=100663296",
    ]);
  });

  test("cpus -> CFS period and quota; weight -> shares", () => {
    expect(files(v1Writes(L({ cpus: 0.5, cpuWeight: 100 })))).toEqual([
      "cpu.cfs_period_us=100000",
      "cpu.cfs_quota_us=50000",
      "cpu.shares=2597",
    ]);
  });

  test("cpuset inherits mems from the parent before cpus are set", () => {
    const w = v1Writes(L({ cpuset: "1" }));
    expect(w[0]?.files[0]?.[0]).toBe("cpuset.mems");
    expect(w[0]?.inherit).toBe(true);
    expect(files(w)[1]).toBe("cpuset.cpus=1");
  });

  test("pids, blkio weight (BFQ first) and throttles, one line per device", () => {
    expect(
      files(
        v1Writes(
          L({
            pids: 64,
            ioWeight: 5,
            ioReadBps: [{ device: "8:0", bytesPerSecond: 10 }],
            ioWriteBps: [{ device: "8:0", bytesPerSecond: 20 }],
          }),
        ),
      ),
    ).toEqual([
      "pids.max=64",
      "blkio.bfq.weight=5|blkio.weight=10",
      "blkio.throttle.read_bps_device=8:0 10",
      "blkio.throttle.write_bps_device=8:0 20",
    ]);
  });
});

describe("conversions", () => {
  test("weight <-> shares follows the runc/crun mapping at both ends", () => {
    expect(weightToShares(1)).toBe(2);
    expect(weightToShares(10000)).toBe(262144);
    expect(weightToShares(100)).toBe(2597);
  });

  test("io weights clamp into each scheduler's range", () => {
    expect(ioWeightToBfq(1)).toBe(1);
    expect(ioWeightToBfq(100)).toBe(100);
    expect(ioWeightToBfq(10000)).toBe(1000);
    expect(ioWeightToBlkio(1)).toBe(10);
    expect(ioWeightToBlkio(10000)).toBe(1000);
  });

  test("cpu quota never below the kernel's 1ms", () => {
    expect(cpuQuotaUs(0.01)).toBe(1000);
    expect(cpuQuotaUs(2)).toBe(200000);
  });
});

describe("controllers a sandbox needs", () => {
  test("each controller with the first limit asking for it", () => {
    expect([...controllersFor(NO_LIMITS)]).toEqual([]);
    expect([
      ...controllersFor(
        L({ memorySwap: 2, memory: 1, cpuWeight: 3, ioWriteBps: [{ device: "1:1", bytesPerSecond: 1 }] }),
      ),
    ]).toEqual([
      ["memory", "memory"],
      ["cpu", "cpuWeight"],
      ["io", "ioWriteBps"],
    ]);
    expect([...controllersFor(L({ cpuTimeMs: 1000, timeoutMs: 5 }))]).toEqual([["cpuacct", "cpuTime"]]);
    expect([...controllersFor(L({ timeoutMs: 5 }))]).toEqual([]);
  });
});

describe("counter parsers", () => {
  test("flat keyed files", () => {
    const k = parseKeyed("usage_usec 1234\nuser_usec 1000\nsystem_usec 234\nnr_periods 0\n");
    expect(k.get("usage_usec")).toBe(1234);
    expect(parseKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").get("oom_kill")).toBe(2);
    expect(parseKeyed("max 0\n").get("max")).toBe(0);
  });

  test("numbers, 'max' and pid lists", () => {
    expect(parseNumber("67108864\n")).toBe(67108864);
    expect(parseNumber("max\n")).toBeNull();
    expect(parseNumber("")).toBeNull();
    expect(parsePids("1\n22\n\n333\n")).toEqual([1, 22, 333]);
  });
});
