/**
 * Mount points anywhere: a destination the view does not have.
 *
 * The view's root is the host's / bound read-only (ops.ts), so a
 * destination missing on the host (--bind SRC:/workspace, as docker -v users
 * expect) has nowhere to be made, and nothing is ever created on the host.
 * Where the deepest directory that does exist on the way is a read-only host
 * directory of the view, a mountPoints op rebuilds it on a tmpfs of the
 * sandbox's own, each entry bound back as it was (native/op_mountpoints.c);
 * the missing components are then made in that tmpfs, which ends read-only.
 * Inside the sandbox's own filesystems (/tmp, --tmpfs, a rebuilt directory)
 * they are made directly, as before. A writable host directory (the cwd, a
 * --bind) is never rebuilt: that would turn it read-only; the caller makes
 * the directory on the host instead. An --overlay needs a directory that the
 * view shows: it has nothing to lay over otherwise.
 *
 * Paths are walked as the init walks them (native/op_path.c): a symlink in any
 * component is refused, never followed.
 *
 * The model: layers (check.ts) record each mount in order; two kinds
 * are this module's own: "points" (a directory rebuilt: its existing entries
 * show what the layers below show, new ones are the sandbox's own) and
 * "made" (a path created in a filesystem of the sandbox's own: it exists).
 */
import { IsolateError, SpecError, field as specField } from "../../errors.ts";
import { osPath } from "../../host/bytes.ts";
import { nodeFs } from "../../host/files.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Layer } from "./check.ts";
import { type Mount, mountFlag, within } from "./fields.ts";

/** What the view shows at a path, per the layers. */
export type Shown =
  | {
      readonly at: "host";
      readonly type: "dir" | "link" | "other" | "none";
      readonly hostPath: string;
      /** A writable bind (the cwd, --bind, --dev-bind). */
      readonly rw: boolean;
    }
  | { readonly at: "own"; readonly exists: boolean }
  | { readonly at: "kernel" | "opaque" };

export function hostPathOf(l: Layer, path: string): string {
  const rest = l.dst === "/" ? path : path.slice(l.dst.length);
  const src = l.src ?? "/";
  return src === "/" ? rest || "/" : src + rest;
}

function hostType(path: string): "dir" | "link" | "other" | "none" {
  try {
    const st = nodeFs().lstatSync(osPath(path));
    return st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : "other";
  } catch {
    return "none";
  }
}

const exists = (s: Shown) => (s.at === "host" ? s.type !== "none" : s.at === "own" ? s.exists : true);

/** The first component of `path` below `dir` (path is within dir, not dir itself). */
function childOf(dir: string, path: string): string {
  const rest = path.slice(dir === "/" ? 1 : dir.length + 1);
  const first = rest.split("/")[0] ?? rest;
  return dir === "/" ? `/${first}` : `${dir}/${first}`;
}

/** What `path` shows with the first `n` layers applied (no component checks: see walk). */
export function shown(path: string, layers: readonly Layer[], n = layers.length): Shown {
  for (let i = n - 1; i >= 0; i--) {
    const l = layers[i];
    if (!l || l.kind === "made" || !within(path, l.dst)) continue;
    // Made since: by an op, or as the way to a later mount point.
    const made = (p: string) => layers.slice(i + 1, n).some((m) => within(m.dst, p));
    switch (l.kind) {
      case "host": {
        const hostPath = hostPathOf(l, path);
        return { at: "host", type: hostType(hostPath), hostPath, rw: l.rw === true };
      }
      case "own":
        return { at: "own", exists: path === l.dst || made(path) };
      case "points": {
        if (path === l.dst) return { at: "own", exists: true };
        const child = childOf(l.dst, path);
        // An entry the directory had is bound back as the view showed it then.
        if (!made(child) && exists(shown(child, layers, i))) return shown(path, layers, i);
        return { at: "own", exists: made(path) };
      }
      default:
        return { at: l.kind };
    }
  }
  throw new IsolateError("internal", `no layer covers ${path}`);
}

interface Missing {
  /** The deepest directory on the way that the view shows. */
  readonly parent: string;
  readonly parentShown: Shown;
}

/**
 * Each component of `path` as the init will walk it: a symlink or a
 * non-directory on the way is refused. Returns where the path stops existing,
 * or undefined when it exists (or lies where only the kernel can tell).
 */
export function walk(flag: string, path: string, layers: readonly Layer[]): Missing | undefined {
  let parent = "/";
  let parentShown = shown("/", layers);
  let cur = "";
  const parts = path.split("/").filter((p) => p !== "");
  for (let i = 0; i < parts.length; i++) {
    cur = `${cur}/${parts[i]}`;
    const s = shown(cur, layers);
    if (s.at === "host" && s.type === "link")
      throw new SpecError(`${flag}: ${cur} is a symbolic link inside the sandbox (mount paths never follow symlinks)`);
    if (!exists(s)) return { parent, parentShown };
    if (s.at === "kernel" || s.at === "opaque") return undefined;
    if (i < parts.length - 1 && s.at === "host" && s.type === "other")
      throw new SpecError(`${flag}: ${cur} is not a directory`);
    parent = cur;
    parentShown = s;
  }
  return undefined;
}

function destination(m: Mount): string | undefined {
  return m.type === "mask" ? undefined : m.dst;
}

/**
 * The ops that give entry `m` a place for its destination, before the entry's
 * own op; records what they change in `layers`. Throws a SpecError where none
 * can be had.
 */
export function mountPointOps(m: Mount, layers: Layer[]): Op[] {
  const dst = destination(m);
  if (dst === undefined) return [];
  const flag = mountFlag(m);
  const missing = walk(flag, dst, layers);
  if (!missing) return [];
  if (m.type === "overlay") {
    throw new SpecError(
      `${flag}: ${dst} is not in the sandbox's view, so there is nothing to overlay (add ${specField("mounts.ro-bind", `DIR:${dst}`)} to show a host directory there, or choose a directory in the view)`,
    );
  }
  const { parent, parentShown: p } = missing;
  const made = (): void => {
    for (let cur = dst; cur !== parent; cur = cur.slice(0, cur.lastIndexOf("/")) || "/")
      layers.push({ dst: cur, kind: "made" });
  };
  if (p.at === "own") {
    made();
    return [];
  }
  if (p.at !== "host") return []; // the kernel's or unknown: the init says
  if (p.rw) {
    const rest = dst.slice(parent === "/" ? 0 : parent.length);
    const host = p.hostPath === "/" ? rest : p.hostPath + rest;
    throw new SpecError(
      `${flag}: ${dst} does not exist, and ${parent} is a writable host directory (a bind), where isolate creates nothing (create ${host} on the host first, or choose a destination outside it)`,
    );
  }
  layers.push({ dst: parent, kind: "points", src: p.hostPath });
  made();
  return [op("mountPoints", { dir: parent })];
}
