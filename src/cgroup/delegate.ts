/**
 * Preparing the supervisor's own cgroup v2 to hold sandboxes with limits.
 *
 * A child cgroup only gets a controller's files when its parent lists the
 * controller in cgroup.subtree_control, and a non-root cgroup can enable
 * controllers there only while it holds no processes ("no internal
 * processes"). So when isolate sits alone in its cgroup, it first moves
 * itself into a leaf, `isolate-<pid>-leaf`, then enables what it needs. At
 * exit it undoes both when no other cgroup there still uses them. When other
 * processes share its cgroup, it fails with the remedy instead of touching them.
 */

import { CgroupError, field as specField } from "../errors.ts";
import type { LimitField } from "../facilities/limits/fields.ts";
import { nodeFs } from "../host/files.ts";
import type { Controller, Hierarchy } from "./detect.ts";
import { errnoCode, errnoWords, readText, removeCgroupDirNow, writeValue } from "./files.ts";
import { alive, leafName, parseName } from "./names.ts";
import { parsePids } from "./stats.ts";
import { makeCgroupDir, noAccessFix } from "./v1.ts";

interface State {
  /** The supervisor's original cgroup: sandboxes are made here. */
  readonly base: string;
  leaf: string | undefined;
  /** Controllers isolate enabled in base's subtree_control. */
  readonly enabled: Set<Controller>;
}

let state: State | undefined;

const words = (s: string | null) => (s ?? "").split(/\s+/).filter(Boolean);

/** The real root cgroup has no cgroup.type (a cgroup namespace's root does). */
const isRoot = (dir: string) => !nodeFs().existsSync(`${dir}/cgroup.type`);

const DELEGATE_FIX =
  "start isolate in a cgroup of its own, e.g. `systemd-run --scope -p Delegate=yes isolate ...`, or move the other processes into a child cgroup";

/**
 * The directory sandboxes are created in, with `need` enabled for its
 * children. `need` maps each controller to the limit asking for it.
 */
export function prepareV2Parent(h: Hierarchy, need: ReadonlyMap<Controller, LimitField>): string {
  state ??= { base: h.dir, leaf: undefined, enabled: new Set() };
  const base = state.base;
  if (need.size === 0) return base;
  const fieldOf = (c: Controller): LimitField => need.get(c) ?? "memory";
  const flagOf = (c: Controller) => specField(`limits.${fieldOf(c)}`);

  const available = words(readText(`${base}/cgroup.controllers`));
  for (const c of need.keys()) {
    if (!available.includes(c)) {
      const parent = base.slice(0, base.lastIndexOf("/"));
      throw new CgroupError(
        `${flagOf(c)}: cannot be enforced: the ${c} controller is not delegated to ${base} (its parent offers: ${available.join(" ") || "none"})`,
        `enable it in ${parent}/cgroup.subtree_control, or run isolate in a cgroup delegated with it (systemd: Delegate=yes)`,
      );
    }
  }
  const enabled = words(readText(`${base}/cgroup.subtree_control`));
  const todo = [...need.keys()].filter((c) => !enabled.includes(c));
  if (todo.length === 0) return base;
  const field = fieldOf(todo[0] ?? "memory");
  const flag = specField(`limits.${field}`);

  if (!isRoot(base)) {
    const procs = parsePids(readText(`${base}/cgroup.procs`) ?? "");
    const others = procs.filter((p) => p !== process.pid);
    if (others.length > 0) {
      const shown = others.slice(0, 5).join(", ") + (others.length > 5 ? ", ..." : "");
      throw new CgroupError(
        `${flag}: cannot be enforced: ${base} also holds other processes (${shown}), so cgroup v2 cannot enable ${todo.join(", ")} below it`,
        DELEGATE_FIX,
      );
    }
    if (procs.includes(process.pid)) moveIntoLeaf(base, field);
  }
  try {
    writeValue(`${base}/cgroup.subtree_control`, todo.map((c) => `+${c}`).join(" "));
  } catch (e) {
    const code = errnoCode(e);
    throw new CgroupError(
      `${flag}: cannot be enforced: enabling ${todo.join(", ")} in ${base}/cgroup.subtree_control: ${errnoWords(code)}`,
      code === "EACCES" || code === "EPERM" ? noAccessFix(base) : DELEGATE_FIX,
    );
  }
  for (const c of todo) state.enabled.add(c);
  return base;
}

function moveIntoLeaf(base: string, field: LimitField): void {
  if (!state) return;
  const flag = specField(`limits.${field}`);
  const leaf = `${base}/${leafName()}`;
  makeCgroupDir(leaf, field, "a leaf for isolate itself");
  try {
    writeValue(`${leaf}/cgroup.procs`, String(process.pid));
  } catch (e) {
    removeCgroupDirNow(leaf);
    throw new CgroupError(
      `${flag}: cannot be enforced: moving isolate into ${leaf}: ${errnoWords(errnoCode(e))}`,
      noAccessFix(base),
    );
  }
  state.leaf = leaf;
  process.once("exit", releaseLeaf);
}

/**
 * At exit: when nothing else below the base still needs them, disable what
 * isolate enabled, move back, and remove the leaf. Synchronous (exit handler).
 */
export function releaseLeaf(): void {
  if (!state?.leaf) return;
  const { base, leaf } = state;
  let children: string[] = [];
  try {
    children = nodeFs()
      .readdirSync(base, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {}
  for (const name of children) {
    const n = parseName(name);
    // Leftovers of dead supervisors do not count; remove them on the way.
    if (n && !alive(n.owner)) removeCgroupDirNow(`${base}/${name}`);
  }
  const busy = children.filter((name) => `${base}/${name}` !== leaf && nodeFs().existsSync(`${base}/${name}`));
  if (busy.length > 0) return;
  try {
    if (state.enabled.size > 0) {
      writeValue(`${base}/cgroup.subtree_control`, [...state.enabled].map((c) => `-${c}`).join(" "));
    }
    writeValue(`${base}/cgroup.procs`, String(process.pid));
    removeCgroupDirNow(leaf);
    state.leaf = undefined;
    state.enabled.clear();
  } catch {}
}
