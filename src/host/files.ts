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
