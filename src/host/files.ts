/**
 * node:fs, loaded on first use. Loading it costs about 2 ms of startup, so the
 * default spawn path (which reads and writes through the shim) never touches
 * it; the paths that do (profile files, /etc/subuid, diagnostics) pay then.
 */
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
