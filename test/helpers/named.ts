/**
 * Named-sandbox tests: each test user (root, nobody, another uid) gets a
 * state directory of its own (XDG_RUNTIME_DIR pointed at a fresh 0700
 * directory it owns), so tests never meet the machine's real state. Every
 * name a test starts is recorded, and cleanup() stops and removes them all.
 * Sandboxes run from / (read-only inside): nothing they do reaches the state.
 */

import { afterAll, setDefaultTimeout } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { IS_ROOT, isolate, type Ran, SCRATCH, sh } from "./index.ts";
import { SLOW } from "./limits.ts";

/**
 * Detached sandboxes start a monitor process each; on a loaded 2-core host
 * that takes seconds. Each test file calls setDefaultTimeout(TEST_MS) itself
 * (it applies to the file that calls it). The VM lane's emulation: SLOW.
 */
export const TEST_MS = 60_000 * SLOW;
/** For afterAll: stopping and removing every sandbox a file started. */
export const CLEANUP_MS = 120_000 * SLOW;

export interface User {
  readonly uid: number;
  readonly label: string;
  /** The state directory isolate uses for this user (XDG_RUNTIME_DIR/isolate). */
  readonly stateDir: string;
  run(args: string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<Ran>;
  /** Names this user's tests started (stopped and removed by cleanup()). */
  readonly names: Set<string>;
  cleanup(): Promise<void>;
}

let seq = 0;

export function user(uid: number): User {
  seq += 1;
  const xdg = join(SCRATCH, "named-state", `${uid}-${process.pid}-${seq}`);
  mkdirSync(join(SCRATCH, "named-state"), { recursive: true, mode: 0o755 });
  chmodSync(join(SCRATCH, "named-state"), 0o755);
  mkdirSync(xdg, { mode: 0o700 });
  chownSync(xdg, uid, uid);
  const names = new Set<string>();
  // A PATH every test user can search (the runner's may name dirs under /root).
  const env = {
    ...process.env,
    XDG_RUNTIME_DIR: xdg,
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  } as Record<string, string>;
  const run = (args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}) => {
    const e = { ...env, ...(opts.env ?? {}) };
    if (uid === 0) return isolate(args, { cwd: "/", env: e, timeoutMs: opts.timeoutMs ?? 30_000 });
    return sh(
      [
        "setpriv",
        `--reuid=${uid}`,
        `--regid=${uid}`,
        "--clear-groups",
        join(import.meta.dir, "../../dist/isolate"),
        ...args,
      ],
      { cwd: "/", env: e, timeoutMs: opts.timeoutMs ?? 30_000 },
    );
  };
  return {
    uid,
    label: uid === 0 ? "root" : `uid ${uid}`,
    stateDir: join(xdg, "isolate"),
    names,
    run,
    async cleanup() {
      await Promise.all(
        [...names].map(async (n) => {
          await run(["stop", n, "--kill-after", "1s"]);
          await run(["rm", n]);
        }),
      );
      await run(["clean"]);
      rmSync(xdg, { recursive: true, force: true });
    },
  };
}

/** A fresh sandbox name for a test. */
export function nameFor(u: User, base: string): string {
  const n = `${base}-${process.pid % 10000}-${++seq}`;
  u.names.add(n);
  return n;
}

export interface PsEntry {
  name: string;
  state: string;
  pid: number | null;
  monitorPid: number;
  exitCode: number | null;
  stats: { memoryBytes: number | null; cpuMs: number | null; pids: number | null };
}

export async function ps(u: User): Promise<PsEntry[]> {
  const r = await u.run(["ps", "--json"]);
  if (r.code !== 0) throw new Error(`ps: ${r.stderr}`);
  return JSON.parse(r.stdout) as PsEntry[];
}

export function stateFiles(u: User): string[] {
  return existsSync(u.stateDir) ? readdirSync(u.stateDir).filter((f) => f !== ".lock") : [];
}

/** Cgroup directories named for an owner pid (isolate-<pid>-*), anywhere in the usual hierarchies. */
export function cgroupsOf(owner: number): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.startsWith(`isolate-${owner}-`)) out.push(join(dir, e));
      else if (depth < 3) walk(join(dir, e), depth + 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  return out;
}

/** A live process (a zombie is not: pid 1 here may be slow to reap reparented processes). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The usual set-up of a named test file: its timeout, and root and nobody (when root), each cleaned up after it. */
export function usersUnderTest(): User[] {
  setDefaultTimeout(TEST_MS);
  const users: User[] = [];
  if (IS_ROOT) users.push(user(0), user(65534));
  afterAll(async () => {
    for (const u of users) await u.cleanup();
  }, CLEANUP_MS);
  return users;
}
