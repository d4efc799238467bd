/**
 * node:fs, loaded on first use. Loading it costs about 2 ms of startup, so the
 * default spawn path (which reads and writes through the shim) never touches
 * it; the paths that do (profile files, /etc/subuid, diagnostics) pay then.
 */
import { osPath, osString } from "./bytes.ts";

type NodeFs = typeof import("node:fs");

let fs: NodeFs | undefined;

export function nodeFs(): NodeFs {
  fs ??= require("node:fs") as NodeFs;
  return fs;
}

/** A small text file, or undefined when it cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The shim's reader (a read(2) loop, no node:fs), once the shim is loaded. */
type Reader = (path: string, max: number) => string | number;
let fast: Reader | undefined;

export function setFastReader(r: Reader): void {
  fast = r;
}

const SMALL = 65536;

/**
 * A small file's text (at most 64 KiB), or undefined when it cannot be read:
 * through the shim when it is loaded, so the spawn path need not load node:fs.
 */
export function readSmallText(path: string): string | undefined {
  if (fast) {
    const t = fast(path, SMALL + 1);
    if (typeof t === "string" && t.length <= SMALL) return t;
    if (typeof t === "number") return undefined;
  }
  return readText(path);
}

/** The shim's lstat and readdir, once it is loaded (src/shim/load.ts). */
interface FastFs {
  /** S_IFMT bits of `name` in the directory fd (AT_FDCWD for an absolute path), not followed; or -errno. */
  typeAt(dir: number, name: string): number;
  list(path: string): string[] | number;
}
let fastFs: FastFs | undefined;

export function setFastFs(f: FastFs): void {
  fastFs = f;
}

const AT_FDCWD = -100;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * What is at the absolute `path` (an OS string), a last symlink not followed
 * (lstat); "none" when it cannot be told. Through the shim when it is loaded:
 * the default view's compile then never loads node:fs.
 */
export function lstatKind(path: string): "dir" | "link" | "other" | "none" {
  if (fastFs) {
    const t = fastFs.typeAt(AT_FDCWD, path);
    if (t < 0) return "none";
    const fmt = t & S_IFMT;
    return fmt === S_IFDIR ? "dir" : fmt === S_IFLNK ? "link" : "other";
  }
  try {
    const st = nodeFs().lstatSync(osPath(path));
    return st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "other";
  } catch {
    return "none";
  }
}

/** The names in the directory at `path` (OS strings, unsorted), or undefined when it cannot be read. */
export function listNames(path: string): string[] | undefined {
  if (fastFs) {
    const r = fastFs.list(path);
    return typeof r === "number" ? undefined : r;
  }
  try {
    return nodeFs()
      .readdirSync(osPath(path), { encoding: "buffer" })
      .map((b) => osString(b));
  } catch {
    return undefined;
  }
}
