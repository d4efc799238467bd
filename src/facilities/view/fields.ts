/**
 * The filesystem part of the Spec: the mount entries (applied in order, after
 * the default view), the root, and how the current directory is shared.
 * Profile files and library calls give entries as structured objects; the CLI
 * builds the same objects from `--bind SRC[:DST]` and friends.
 */
import * as v from "valibot";
import { parseSize } from "../../config/units.ts";
import { SpecError, field as specField } from "../../errors.ts";
import { osByteLength } from "../../host/bytes.ts";

export const MOUNT_TYPES = ["bind", "ro-bind", "dev-bind", "tmpfs", "overlay", "mask", "symlink", "dir"] as const;
export type MountType = (typeof MOUNT_TYPES)[number];

/** How the caller's working directory appears inside: bound read-write, read-only, or not at all. */
export const CWD_MOUNTS = ["rw", "ro", "none"] as const;
export type CwdMount = (typeof CWD_MOUNTS)[number];

const Str = v.string();
const SizeIn = v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.string()]);
const ModeIn = v.union([v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777)), v.string()]);

const BindIn = v.strictObject({
  type: v.picklist(["bind", "ro-bind", "dev-bind"]),
  /** A host path (absolute). */
  src: Str,
  /** Where it appears inside (default: the same path). */
  dst: v.optional(Str),
});

export const MountInputSchema = v.variant(
  "type",
  [
    BindIn,
    v.strictObject({ type: v.literal("tmpfs"), dst: Str, size: v.optional(SizeIn), mode: v.optional(ModeIn) }),
    v.strictObject({ type: v.literal("overlay"), dst: Str, upper: v.optional(Str), work: v.optional(Str) }),
    v.strictObject({ type: v.literal("mask"), path: Str }),
    v.strictObject({ type: v.literal("symlink"), target: Str, dst: Str }),
    v.strictObject({ type: v.literal("dir"), dst: Str, mode: v.optional(ModeIn) }),
  ],
  `mount type must be one of ${MOUNT_TYPES.join(", ")}`,
);

export type MountInput = v.InferInput<typeof MountInputSchema>;

/** A mount entry of a normalized Spec: absolute, canonical paths. */
export type Mount =
  | { readonly type: "bind" | "ro-bind" | "dev-bind"; readonly src: string; readonly dst: string }
  | { readonly type: "tmpfs"; readonly dst: string; readonly size: number | undefined; readonly mode: number }
  | {
      readonly type: "overlay";
      readonly dst: string;
      readonly upper: string | undefined;
      readonly work: string | undefined;
    }
  | { readonly type: "mask"; readonly path: string }
  | { readonly type: "symlink"; readonly target: string; readonly dst: string }
  | { readonly type: "dir"; readonly dst: string; readonly mode: number };

/** A path as isolate keeps it: absolute, no empty, "." or ".." component, no trailing slash. */
export function canonicalPath(path: string): string | { error: string } {
  if (path.includes("\0")) return { error: "contains a NUL byte" };
  if (!path.startsWith("/")) return { error: `"${path}" is not an absolute path` };
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) return { error: `"${path}" has a "." or ".." component` };
  if (parts.some((p) => osByteLength(p) > 255)) return { error: `"${path}" has a component longer than 255 bytes` };
  const out = `/${parts.join("/")}`;
  if (osByteLength(out) >= 4000) return { error: `"${path}" is too long` };
  return out;
}

/** overlayfs's work dir for an upper dir given alone: beside it, on the same filesystem, named for isolate. */
export function overlayWork(upper: string): string {
  const slash = upper.lastIndexOf("/");
  return `${upper.slice(0, slash)}/.${upper.slice(slash + 1)}.isolate-work`;
}

/**
 * The entry for messages, as a field token (src/errors.ts): the library says
 * `mounts.bind: "/a:/b"`, the CLI `--bind /a:/b`.
 */
export function mountFlag(m: MountInput | Mount): string {
  const esc = (s: string | number | undefined) => String(s ?? "").replace(/([\\: ])/g, "\\$1");
  const join = (...xs: (string | number | undefined)[]) =>
    xs
      .filter((x) => x !== undefined)
      .map(esc)
      .join(":");
  switch (m.type) {
    case "bind":
    case "ro-bind":
    case "dev-bind":
      return specField(`mounts.${m.type}`, join(m.src, m.dst === m.src ? undefined : m.dst));
    case "tmpfs":
      return specField("mounts.tmpfs", join(m.dst, m.size));
    case "overlay":
      return specField("mounts.overlay", join(m.dst, m.upper, m.work));
    case "mask":
      return specField("mounts.mask", esc(m.path));
    case "symlink":
      return specField("mounts.symlink", join(m.target, m.dst));
    case "dir":
      return specField("mounts.dir", join(m.dst, typeof m.mode === "number" ? m.mode.toString(8) : m.mode));
  }
}

function parseMode(mode: number | string | undefined, fallback: number): number | string {
  if (mode === undefined) return fallback;
  if (typeof mode === "number") return mode;
  if (!/^0?[0-7]{1,4}$/.test(mode)) return `mode "${mode}" is not octal (e.g. 755, 1777)`;
  return Number.parseInt(mode, 8);
}

/** Bad input in one mount entry: reported as [the entry, the words] (see normalizeView). */
const Bad = SpecError;

function path(p: string, what: string, root = false): string {
  const c = canonicalPath(p);
  if (typeof c !== "string") throw new Bad(`${what} ${c.error}`);
  if (c === "/" && !root) throw new Bad(`cannot mount over / (use ${specField("rootfs")} DIR to change the root)`);
  return c;
}

function normalizeOne(m: MountInput): Mount {
  switch (m.type) {
    case "bind":
    case "ro-bind":
    case "dev-bind": {
      const src = path(m.src, "source", true);
      return { type: m.type, src, dst: path(m.dst ?? src, "destination") };
    }
    case "tmpfs": {
      let size: number | undefined;
      if (m.size !== undefined) {
        const s = typeof m.size === "number" ? m.size : parseSize(m.size);
        if (typeof s === "string") throw new Bad(`size ${s}`);
        if (s < 4096) throw new Bad("size must be at least 4k");
        size = s;
      }
      const mode = parseMode(m.mode, 0o755);
      if (typeof mode === "string") throw new Bad(mode);
      return { type: "tmpfs", dst: path(m.dst, "destination"), size, mode };
    }
    case "overlay": {
      if (m.work !== undefined && m.upper === undefined) throw new Bad("a work dir needs an upper dir");
      const upper = m.upper === undefined ? undefined : path(m.upper, "upper dir");
      const work = m.work === undefined ? undefined : path(m.work, "work dir");
      if (upper !== undefined && work !== undefined && (within(work, upper) || within(upper, work)))
        throw new Bad("the upper and work dirs must not contain each other");
      return { type: "overlay", dst: path(m.dst, "destination"), upper, work };
    }
    case "mask":
      return { type: "mask", path: path(m.path, "path") };
    case "symlink":
      if (m.target === "" || m.target.includes("\0")) throw new Bad("the link target must be a non-empty string");
      return { type: "symlink", target: m.target, dst: path(m.dst, "link") };
    case "dir": {
      const mode = parseMode(m.mode, 0o755);
      if (typeof mode === "string") throw new Bad(mode);
      return { type: "dir", dst: path(m.dst, "directory"), mode };
    }
  }
}

/** True when `path` is `dir` or lies under it (both canonical). */
export function within(path: string, dir: string): boolean {
  return dir === "/" || path === dir || path.startsWith(`${dir}/`);
}

export interface View {
  readonly mounts: readonly Mount[];
  readonly rootfs: string | undefined;
  readonly cwdMount: CwdMount;
}

export interface ViewInput {
  readonly mounts: readonly MountInput[];
  readonly rootfs?: string | undefined;
  readonly cwdMount?: CwdMount | undefined;
}

/**
 * Normalize the view fields; on the first bad entry, [a name for it, the problem]
 * (for a mount entry, its command-line spelling).
 */
export function normalizeView(
  p: ViewInput,
  cwdDefault: CwdMount = "ro",
): View | { error: [field: string, message: string] } {
  const mounts: Mount[] = [];
  for (const m of p.mounts) {
    try {
      mounts.push(normalizeOne(m));
    } catch (e) {
      if (e instanceof SpecError) return { error: [mountFlag(m), e.words[0]] };
      throw e;
    }
  }
  let rootfs: string | undefined;
  if (p.rootfs !== undefined) {
    const c = canonicalPath(p.rootfs);
    if (typeof c !== "string") return { error: ["rootfs", c.error] };
    rootfs = c;
  }
  // A rootfs rarely holds the caller's directory: share it only when asked.
  return { mounts, rootfs, cwdMount: p.cwdMount ?? (rootfs === undefined ? cwdDefault : "none") };
}
