/**
 * Names of the cgroups isolate creates: `isolate-<owner pid>-<n>` for a
 * sandbox and `isolate-<owner pid>-leaf` for the leaf a supervisor moves
 * itself into on cgroup v2. The owner's pid lets `isolate clean` tell
 * leftovers of a dead (e.g. SIGKILLed) supervisor from live ones.
 */
import { readText } from "../host/files.ts";

const NAME = /^isolate-(\d+)-(\d+|leaf)$/;
let counter = 0;

export function sandboxName(): string {
  counter += 1;
  return `isolate-${process.pid}-${counter}`;
}

export function leafName(pid = process.pid): string {
  return `isolate-${pid}-leaf`;
}

export interface ParsedName {
  readonly owner: number;
  readonly kind: "sandbox" | "leaf";
}

export function parseName(name: string): ParsedName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return { owner: Number(m[1]), kind: m[2] === "leaf" ? "leaf" : "sandbox" };
}

/**
 * Whether a process with this pid exists (in our pid namespace) and has not
 * ended: a zombie (an owner whose parent, e.g. a pid 1 that does not reap,
 * has not waited for it yet) owns nothing any more. Named sandboxes'
 * detached monitors end up parented to pid 1.
 */
export function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return true;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}
