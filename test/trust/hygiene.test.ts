/**
 * Smaller holes of the trust boundary, with the built binary, as root and as
 * nobody:
 *  - /proc/1/cmdline inside shows no host pid (the init's argv is its name
 *    alone; whose sandbox it is lives in its environment, unreadable inside);
 *  - the shim, init and plan memfds are sealed: write, grow, shrink and seal.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { loadShim } from "../../src/shim/load.ts";
import { BIN, IS_ROOT, initsOf, isolate, needs, probe, SCRATCH, waitFor } from "../helpers/index.ts";

const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;
const F_SEAL_WRITE = 0x8;
const ALL = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

describe("/proc/1/cmdline inside shows no host pid", () => {
  for (const nobody of [false, true]) {
    needs(IS_ROOT || !nobody, "root (to run as nobody)")(nobody ? "as nobody" : "as caller", async () => {
      const r = await isolate(
        ["exec", "--", "sh", "-c", "od -An -c /proc/1/cmdline; cat /proc/1/environ >/dev/null 2>&1; echo environ=$?"],
        { nobody, cwd: SCRATCH },
      );
      expect(r.stderr).toBe("");
      // The whole argv is the init's name: no supervisor pid, nothing of the host.
      expect(r.stdout.replace(/\s+/g, "")).toBe("isolate-init\\0environ=1");
      expect(r.code).toBe(0);
    });
  }

  needs(IS_ROOT, "root")("the host still finds a run's init (by its environment)", async () => {
    const proc = Bun.spawn([BIN, "exec", "--", "sleep", "30"], { stdout: "ignore", cwd: SCRATCH });
    try {
      const inits = await waitFor(async () => {
        const found = await initsOf(proc.pid);
        return found.length ? found : undefined;
      });
      expect(inits).toHaveLength(1);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  });
});

/** F_GET_SEALS of each path, through a C probe. */
async function seals(paths: string[]): Promise<Map<string, string>> {
  const p = await probe("seals");
  const r = Bun.spawnSync([p, ...paths]);
  const out = new Map<string, string>();
  for (const line of r.stdout.toString().trim().split("\n")) {
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

describe("the memfds are sealed", () => {
  test("the shim and the init, in a running isolate", async () => {
    const proc = Bun.spawn([BIN, "exec", "--", "sleep", "30"], { stdout: "ignore", cwd: SCRATCH });
    try {
      const fds = await waitFor(() => {
        const found = new Map<string, string>();
        try {
          for (const fd of readdirSync(`/proc/${proc.pid}/fd`)) {
            const link = readlinkSync(`/proc/${proc.pid}/fd/${fd}`);
            const m = /^\/memfd:(isolate-(shim|init)) \(deleted\)$/.exec(link);
            if (m?.[1]) found.set(m[1], `/proc/${proc.pid}/fd/${fd}`);
          }
        } catch {}
        return found.size === 2 ? found : undefined;
      });
      expect(fds).toBeDefined();
      const got = await seals([...(fds?.values() ?? [])]);
      for (const path of fds?.values() ?? []) expect(got.get(path)).toBe(`seals=0x${ALL.toString(16)}`);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  });

  test("a plan (isolate_memfd, as spawn makes each plan's)", async () => {
    const shim = loadShim();
    const fd = shim.memfd("isolate-plan", new Uint8Array([1, 2, 3]), false);
    try {
      const got = await seals([`/proc/${process.pid}/fd/${fd}`]);
      expect([...got.values()]).toEqual([`seals=0x${ALL.toString(16)}`]);
    } finally {
      shim.close(fd);
    }
  });
});
