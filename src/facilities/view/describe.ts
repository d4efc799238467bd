/** The view ops in words (for `isolate plan` and setup errors), and what their failures mean. */
import { field as specField } from "../../errors.ts";
import { quoteOs } from "../../host/bytes.ts";
import type { Op } from "../../plan/op.ts";
import { VIEW } from "./ops.ts";

const q = quoteOs;

/** The view's ops: what this file describes, and explains the failures of. */
export const VIEW_OPS = [
  "mountRoot",
  "bind",
  "tmpfs",
  "mountProc",
  "mountDev",
  "mask",
  "readonly",
  "overlay",
  "symlink",
  "mkdir",
  "mountPoints",
  "mountCgroup",
  "pivotRoot",
] as const;

export type ViewOp = Extract<Op, { op: (typeof VIEW_OPS)[number] }>;

const has = (flags: number | bigint, bit: number) => (Number(flags) & bit) !== 0;

function sizeText(bytes: number): string {
  for (const [unit, n] of [
    ["G", 2 ** 30],
    ["M", 2 ** 20],
    ["k", 2 ** 10],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return `${bytes} bytes`;
}

export function describeViewOp(o: ViewOp): string {
  switch (o.op) {
    case "mountRoot":
      return `read-only root from ${q(o.args.source)}`;
    case "bind": {
      const f = o.args.flags;
      const how = has(f, VIEW.RO) ? "read-only" : has(f, VIEW.DEV) ? "read-write, with devices" : "read-write";
      const idmapped = has(f, VIEW.IDMAP) && !has(f, VIEW.RO) ? ", idmapped: files keep their host owners" : "";
      return `bind ${q(o.args.src)} on ${q(o.args.dst)} (${how}${idmapped})`;
    }
    case "tmpfs": {
      const size = Number(o.args.size);
      const of = has(o.args.flags, VIEW.PERCENT) ? `${size}% of RAM` : size ? sizeText(size) : "unlimited";
      return `tmpfs on ${q(o.args.dst)} (size ${of})`;
    }
    case "mountProc":
      return `proc on ${q(o.args.dst)}`;
    case "mountDev":
      return `minimal dev on ${q(o.args.dst)} (${o.args.nodes.join(", ")})`;
    case "mask":
      return `mask ${q(o.args.path)}`;
    case "readonly":
      return `read-only ${q(o.args.path)}`;
    case "overlay":
      return o.args.upper
        ? `overlay on ${q(o.args.dst)} (changes in ${q(o.args.upper)}, work dir ${q(o.args.work)}${has(o.args.flags, VIEW.MKWORK) ? ", made if missing and then removed after the run" : ""})`
        : `overlay on ${q(o.args.dst)} (changes discarded)`;
    case "symlink":
      return `symlink ${q(o.args.dst)} -> ${q(o.args.target)}`;
    case "mkdir":
      return `directory ${q(o.args.dst)}`;
    case "mountPoints":
      return `mount points in ${q(o.args.dir)} (a tmpfs over it holding its entries, bound back as they were, then read-only)`;
    case "mountCgroup":
      return `fresh ${o.args.options ? `cgroup (${o.args.options})` : "cgroup2"} on ${q(o.args.dst)} (read-only, the sandbox's own)`;
    case "pivotRoot":
      return "pivot_root into the new root";
  }
}

const EPERM = 1;
const ENOENT = 2;
const EROFS = 30;
const ENOTDIR = 20;
const EISDIR = 21;
const ELOOP = 40;
const ENOSYS = 38;
const EBUSY = 16;

/** A clearer reason than the errno text, where the op tells more; else undefined. */
export function explainViewErrno(o: Op, errno: number): string | undefined {
  const view = o.op as string;
  if (!(VIEW_OPS as readonly string[]).includes(view)) return undefined;
  if (errno === ENOSYS) return "this kernel lacks the new mount API (Linux 5.12 or later is needed)";
  if (o.op === "mountProc" && errno === EPERM) {
    return (
      "the kernel lets a user namespace mount proc only where a fully visible one exists, and the /proc around isolate " +
      `has paths masked or mounted over (a container's masked paths, or an outer isolate without ${specField("allowNested")}) ` +
      `(give the outer isolate ${specField("allowNested")}; a container an unmasked /proc, e.g. docker/podman --security-opt ` +
      `systempaths=unconfined; or keep the host's pids with ${specField("share", "pid")})`
    );
  }
  if (errno === ELOOP && (o.op === "bind" || o.op === "overlay"))
    return "a component of the path is a symbolic link (destinations and writable sources never follow symlinks)";
  if (errno === ELOOP) return "a component of the path is a symbolic link (mount paths never follow symlinks)";
  if (o.op === "mountPoints" && errno === EBUSY)
    return "the directory is writable in the view (a bind of a host directory), and isolate creates nothing on the host (create the mount point on the host first)";
  if (o.op === "bind" && errno === ENOTDIR) return "cannot mount a directory over a file";
  if (o.op === "bind" && errno === EISDIR) return "cannot mount a file over a directory";
  if ((o.op === "symlink" || o.op === "mkdir") && errno === EROFS)
    return `isolate creates entries only inside its own tmpfs (/tmp, /dev, /run, ${specField("mounts.tmpfs")} DIR)`;
  if (errno === ENOENT && (o.op === "bind" || o.op === "tmpfs"))
    return "No such file or directory (isolate makes mount points only in filesystems of the sandbox's own, never on the host)";
  return undefined;
}
