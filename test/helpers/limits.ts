/**
 * Helpers of the limit tests: which cgroup backend this host gives them, the
 * isolate cgroups that exist, and timing slack for the v2 VM lane (TCG).
 */
import { test } from "bun:test";
import { readdirSync } from "node:fs";
import { hierarchyRoots } from "../../src/cgroup/clean.ts";
import { detectCgroups } from "../../src/cgroup/detect.ts";
import { IS_ROOT, needs, probe } from "./index.ts";

export const LAYOUT = detectCgroups();
/** The version memory, pids and cpu accounting have here (0: none). */
export const BACKEND = LAYOUT.controllers.memory.version;
/** Inside scripts/vm-lane.sh (a kernel with cgroup v2 only, under software emulation). */
export const ON_VMLANE = process.env.ISOLATE_VMLANE === "1";
/** Timing bounds stretch by this under the VM lane's emulation. */
export const SLOW = ON_VMLANE ? 4 : 1;

const allLimits =
  LAYOUT.controllers.memory.version !== 0 &&
  LAYOUT.controllers.pids.version !== 0 &&
  LAYOUT.controllers.cpu.version !== 0 &&
  LAYOUT.controllers.cpuacct.version !== 0;

/** A test of limits enforced through cgroups: needs root (nothing is delegated here) and the controllers. */
export const withCgroups = needs(IS_ROOT && allLimits, "root and memory, pids and cpu cgroup controllers");

/**
 * A test of the cgroup v2 backend only. Outside the VM lane a host without v2
 * controllers skips it visibly (scripts/vm-lane.sh runs it); in the lane it is required.
 */
export function v2Only() {
  if (ON_VMLANE) return needs(IS_ROOT && BACKEND === 2, "cgroup v2 controllers as root");
  if (IS_ROOT && BACKEND === 2) return test;
  return (name: string, fn: () => Promise<void> | void, timeout?: number) =>
    test.skip(`${name} [skipped: no cgroup v2 controllers here; scripts/vm-lane.sh runs it]`, fn, timeout);
}

/**
 * A test this host may be unable to run (e.g. no readable disk here) that
 * the VM lane always can: required there, a visible skip elsewhere.
 */
export function laneRequires(ok: boolean, why: string) {
  if (ON_VMLANE) return needs(ok, why);
  if (ok) return test;
  return (name: string, fn: () => Promise<void> | void, timeout?: number) =>
    test.skip(`${name} [skipped: ${why}; scripts/vm-lane.sh runs it]`, fn, timeout);
}

/** Every cgroup directory named by isolate (isolate-<pid>-...), optionally only those of `owners`. */
export function isolateCgroups(owners?: readonly number[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {}
    for (const name of names) {
      const m = /^isolate-(\d+)-/.exec(name);
      if (m) {
        if (!owners || owners.includes(Number(m[1]))) out.push(`${dir}/${name}`);
      } else if (depth < 12) walk(`${dir}/${name}`, depth + 1);
    }
  };
  for (const root of hierarchyRoots(LAYOUT)) walk(root, 0);
  return out;
}

/**
 * The kernel's own lateness under the load of the moment, as a control for
 * bounds in milliseconds: a plain process (fixtures/kill-latency.c, no
 * isolate) ends a child 500 ms after forking it, every 200 ms until `until`
 * settles; the worst one's milliseconds past 500. A killed process needs the
 * CPU to die, so a saturated machine (a noisy neighbour, steal time) delays
 * every end by this much, isolate's too. Start-up costs are not counted.
 */
export async function kernelLateness(until: Promise<unknown>): Promise<number> {
  const bin = await probe("kill-latency");
  let over = false;
  void until.finally(() => {
    over = true;
  });
  const runs: Promise<number>[] = [];
  do {
    runs.push(
      (async () => {
        const p = Bun.spawn([bin], { stdout: "pipe", stderr: "ignore" });
        const out = await new Response(p.stdout).text();
        await p.exited;
        const late = Number(out.trim());
        return Number.isFinite(late) ? Math.max(0, late) : 0;
      })(),
    );
    await Bun.sleep(200);
  } while (!over);
  return Math.max(0, ...(await Promise.all(runs)));
}
