/**
 * Fixtures for the filesystem-view tests: host directories the sandbox sees
 * as the host's (in SCRATCH, never under /tmp, which it covers with its own),
 * a snapshot of a host tree to prove it unchanged, and mountinfo parsing.
 */
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SCRATCH } from "./index.ts";

/** A fresh host directory (in SCRATCH), removed by the returned function. */
export function hostDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(SCRATCH, "fs-test-"));
  // Searchable by a sandbox's root, which is not host root (root runs mapped).
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every entry under dir with its type, mode, size, mtime and link target: equal snapshots mean untouched. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const link = st.isSymbolicLink() ? readlinkSync(p) : "";
      out.push(`${p} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${link}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

export interface MountEntry {
  readonly root: string;
  readonly point: string;
  readonly options: readonly string[];
  readonly fstype: string;
}

const unoctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  return text
    .trim()
    .split("\n")
    .filter((l) => l)
    .map((line) => {
      const [left = "", right = ""] = line.split(" - ");
      const f = left.split(" ");
      return {
        root: unoctal(f[3] ?? ""),
        point: unoctal(f[4] ?? ""),
        options: (f[5] ?? "").split(","),
        fstype: right.split(" ")[0] ?? "",
      };
    });
}

/** The host's own mount table (this test process's). */
export const hostMountinfo = () => readFileSync("/proc/self/mountinfo", "utf8");

/** Every way to undo the view from inside; a sandbox that holds prints only "done". */
export const UNDO_VIEW = [
  "mount -o remount,rw / 2>/dev/null && echo REMOUNTED",
  "mount -o remount,bind,rw / 2>/dev/null && echo REMOUNTED-BIND",
  "umount /sys/firmware 2>/dev/null && echo UNMASKED",
  "umount -l /dev 2>/dev/null && echo UNMOUNTED-DEV",
  "mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED",
  "echo done",
].join("\n");
