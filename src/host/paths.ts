/**
 * POSIX path helpers for absolute paths. node:path costs milliseconds to
 * load, and the spawn path needs only these.
 */

/** Collapse `.`, `..` and repeated slashes of an absolute path. */
export function normalizeAbs(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** `p` made absolute against `base` (itself absolute), then normalized. */
export function resolveAbs(base: string, p: string): string {
  return normalizeAbs(p.startsWith("/") ? p : `${base}/${p}`);
}

export function dirname(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : trimmed.slice(0, i);
}

export function basename(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
