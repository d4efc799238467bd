/**
 * Leftovers: cgroups named by isolate (names.ts) whose owner is dead, e.g.
 * after the supervisor was SIGKILLed. `isolate clean` walks every cgroup
 * hierarchy for them; each new sandbox sweeps its own parent directories.
 * Live owners' cgroups, and everything not named by isolate, are never touched.
 */
import { nodeFs } from "../host/files.ts";
import { type CgroupLayout, detectCgroups } from "./detect.ts";
import { errnoCode, errnoWords, readText, removeCgroupDir, removeCgroupDirNow, sleep, writeValue } from "./files.ts";
import { alive, parseName } from "./names.ts";
import { parsePids } from "./stats.ts";

export interface Leftover {
  readonly path: string;
  readonly owner: number;
  readonly kind: "sandbox" | "leaf";
}

function children(dir: string): string[] {
  try {
    return nodeFs()
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Every mounted hierarchy's root directory, once each. */
export function hierarchyRoots(layout: CgroupLayout): string[] {
  const roots = new Set<string>();
  if (layout.v2) roots.add(layout.v2.mount);
  for (const h of layout.v1) roots.add(h.mount);
  return [...roots];
}

/** Leftovers anywhere below `roots` (default: every hierarchy). */
export function findLeftovers(roots: readonly string[] = hierarchyRoots(detectCgroups()), maxDepth = 32): Leftover[] {
  const out: Leftover[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of children(dir)) {
      const path = `${dir}/${name}`;
      const n = parseName(name);
      if (n) {
        // A live owner's cgroup (and whatever nested sandboxes made inside it) is not ours to judge.
        if (!alive(n.owner)) out.push({ path, owner: n.owner, kind: n.kind });
        continue;
      }
      if (depth < maxDepth) walk(path, depth + 1);
    }
  };
  for (const root of roots) walk(root, 0);
  return out;
}

function allPids(dir: string): number[] {
  return [
    ...parsePids(readText(`${dir}/cgroup.procs`) ?? ""),
    ...children(dir).flatMap((name) => allPids(`${dir}/${name}`)),
  ];
}

/** Kill whatever still runs in a leftover, then remove it. null, or why it could not be removed. */
export async function removeLeftover(path: string): Promise<string | null> {
  try {
    writeValue(`${path}/cgroup.kill`, "1");
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") {
      // not v2, or cgroup.kill refused: fall through to killing by pid
    }
  }
  for (let round = 0; round < 200; round++) {
    const pids = allPids(path);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await sleep(Math.min(1 + round, 20));
  }
  const code = await removeCgroupDir(path);
  return code ? errnoWords(code) : null;
}

const swept = new Set<string>();

/**
 * Remove empty leftovers directly below `dir`, once per directory per
 * process: cheap, synchronous, and never kills (that is `isolate clean`'s).
 */
export function sweepOnce(dir: string): void {
  if (swept.has(dir)) return;
  swept.add(dir);
  for (const name of children(dir)) {
    const n = parseName(name);
    if (!n || alive(n.owner)) continue;
    const path = `${dir}/${name}`;
    if (allPids(path).length === 0) removeCgroupDirNow(path);
  }
}

export interface CleanReport {
  readonly removed: readonly string[];
  readonly failed: readonly { readonly path: string; readonly why: string }[];
}

/**
 * Find and remove the cgroups left by isolate processes that were SIGKILLed
 * (or only list them with dryRun): what `isolate clean` does.
 *
 * @example
 * const { removed, failed } = await cleanLeftovers({ dryRun: true });
 */
export async function cleanLeftovers(opts: { dryRun?: boolean; roots?: readonly string[] } = {}): Promise<CleanReport> {
  const found = findLeftovers(opts.roots);
  if (opts.dryRun) return { removed: found.map((l) => l.path), failed: [] };
  const removed: string[] = [];
  const failed: { path: string; why: string }[] = [];
  for (const l of found) {
    const why = await removeLeftover(l.path);
    if (why) failed.push({ path: l.path, why });
    else removed.push(l.path);
  }
  return { removed, failed };
}
