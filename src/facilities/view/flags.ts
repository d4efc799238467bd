/**
 * The mount flags' values: `SRC[:DST]`, `DST[:SIZE]`, ... Fields are split
 * on ':'; a backslash makes the next character literal (`\:`, `\ `, `\\`), so
 * paths with ':' or spaces can be given. Host paths (sources, upper and work
 * dirs, --rootfs) may be relative to the current directory; destinations
 * inside the sandbox may not.
 */

import { SpecError } from "../../errors.ts";
import { rawCwd } from "../../host/bytes.ts";
import { resolveAbs } from "../../host/paths.ts";
import type { MountInput } from "./fields.ts";

/** Split on unescaped ':' and drop the escapes. */
export function splitFields(value: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length) {
      cur += value[++i];
    } else if (c === ":") {
      out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

function fields(flag: string, value: string, min: number, max: number, shape: string): string[] {
  const f = splitFields(value);
  if (f.length < min || f.length > max || f.some((x, i) => x === "" && i < min)) {
    throw new SpecError(`${flag} ${value}: expected ${shape}`, "escape a ':' or a space in a path with a backslash");
  }
  return f;
}

/** A host path: relative ones are taken from the current directory. */
export const hostPath = (p: string) => (p.startsWith("/") ? p : resolveAbs(rawCwd(), p));

const opt = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);

export function parseMountFlag(flag: string, value: string): MountInput {
  switch (flag) {
    case "--bind":
    case "--ro-bind":
    case "--dev-bind": {
      const [src = "", dst] = fields(flag, value, 1, 2, "SRC[:DST]");
      const type = flag.slice(2) as "bind" | "ro-bind" | "dev-bind";
      const source = hostPath(src);
      return { type, src: source, dst: opt(dst) ?? source };
    }
    case "--tmpfs": {
      const [dst = "", size] = fields(flag, value, 1, 2, "DST[:SIZE]");
      return opt(size) === undefined ? { type: "tmpfs", dst } : { type: "tmpfs", dst, size: size as string };
    }
    case "--overlay": {
      const [dst = "", upper, work] = fields(flag, value, 1, 3, "DST[:UPPER[:WORK]]");
      const m: MountInput = { type: "overlay", dst };
      if (opt(upper) !== undefined) m.upper = hostPath(upper as string);
      if (opt(work) !== undefined) m.work = hostPath(work as string);
      return m;
    }
    case "--mask":
      return { type: "mask", path: fields(flag, value, 1, 1, "PATH")[0] ?? "" };
    case "--symlink": {
      const [target = "", dst = ""] = fields(flag, value, 2, 2, "TARGET:DST");
      return { type: "symlink", target, dst };
    }
    case "--dir": {
      const [dst = "", mode] = fields(flag, value, 1, 2, "DST[:MODE]");
      return opt(mode) === undefined ? { type: "dir", dst } : { type: "dir", dst, mode: mode as string };
    }
  }
  throw new SpecError(`unknown mount flag ${flag}`);
}
