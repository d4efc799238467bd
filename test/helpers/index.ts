/**
 * Shared test helpers: the built binary, running it (also as nobody), and
 * visible skips for tests that need something this host lacks.
 *
 * ISOLATE_TEST_STRICT=1 (set by .ci/run) turns every such skip into a failure.
 */
import { test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const STRICT = process.env.ISOLATE_TEST_STRICT === "1";
export const IS_ROOT = process.geteuid?.() === 0;
export const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

const BUILT = join(ROOT, "dist", "isolate");
if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build (npm test does)`);

/** Where a sandbox has private dirs of its own: a host path under one is not seen inside. */
const PRIVATE_INSIDE = ["/tmp", "/var/tmp", "/run", "/var/run", "/dev", "/proc", "/sys"];
export const underPrivate = (p: string) => PRIVATE_INSIDE.some((d) => p === d || p.startsWith(`${d}/`));

/**
 * Scratch space the tests share with their sandboxes (fixtures, probes, marked
 * binaries): in the checkout, unless the checkout itself lives where sandboxes
 * have private dirs (a clone in /tmp, say); then in /var/lib/isolate-test.
 */
export const SCRATCH = underPrivate(ROOT) ? "/var/lib/isolate-test" : join(ROOT, ".test-tmp");
mkdirSync(SCRATCH, { recursive: true });

/** The built binary, at a path sandboxes see too (nested runs). */
export const BIN = underPrivate(ROOT) ? join(SCRATCH, "isolate") : BUILT;
if (BIN !== BUILT) {
  const a = statSync(BUILT);
  const b = existsSync(BIN) ? statSync(BIN) : undefined;
  if (!b || b.size !== a.size || b.mtimeMs < a.mtimeMs) copyFileSync(BUILT, BIN);
}

// The library runs sandboxes in the caller's directory: keep it one they can see.
if (underPrivate(process.cwd())) process.chdir(SCRATCH);

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  signal: string | number | null;
}

export interface RunOpts {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  timeoutMs?: number;
  /** Run as uid/gid 65534 through setpriv. */
  nobody?: boolean;
}

/** Run a command to completion, capturing its output. */
export async function sh(argv: string[], opts: RunOpts = {}): Promise<Ran> {
  const full = opts.nobody ? [...NOBODY, ...argv] : argv;
  const proc = Bun.spawn(full, {
    cwd: opts.cwd ?? tmpdir(),
    env: opts.env ?? process.env,
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout, stderr, signal: proc.signalCode };
}

/** The syscalls of `argv` that match `filter`, traced with strace (the trace file never outlives the call). */
export async function traced(
  filter: string,
  argv: string[],
  opts: RunOpts = {},
): Promise<{ ran: Awaited<ReturnType<typeof sh>>; calls: string }> {
  const t = tempDir("isolate-strace-");
  try {
    const trace = join(t.path, "trace");
    const ran = await sh(["strace", "-f", "-qq", "-e", `trace=${filter}`, "-o", trace, ...argv], opts);
    return { ran, calls: readFileSync(trace, "utf8") };
  } finally {
    t.remove();
  }
}

/** strace is installed (Debian: strace; .ci/run installs it). */
export const HAS_STRACE = Bun.which("strace") !== null;

/** Run the built binary: `isolate ARGS...`. */
export function isolate(args: string[], opts: RunOpts = {}): Promise<Ran> {
  return sh([BIN, ...args], opts);
}

/**
 * A test that needs `ok`. When it is false the test is skipped with the
 * reason in its name, or fails under ISOLATE_TEST_STRICT=1.
 */
type TestFn = Parameters<typeof test>[1];

export function needs(ok: boolean, why: string) {
  if (ok) return test;
  if (STRICT) {
    return (name: string, _fn: TestFn, _timeout?: number) =>
      test(name, () => {
        throw new Error(`required on CI but unavailable here: ${why}`);
      });
  }
  return (name: string, fn: TestFn, timeout?: number) => test.skip(`${name} [skipped: ${why}]`, fn, timeout);
}

/** A fresh scratch dir (see SCRATCH), removed by the returned function. */
export function tempDir(prefix = "isolate-test-"): { path: string; remove: () => void } {
  mkdirSync(SCRATCH, { recursive: true });
  const path = mkdtempSync(join(SCRATCH, prefix));
  // Searchable by a sandbox's root, which is not host root (root runs mapped: docs/hardening.md).
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A unique marker to find a test's processes by their command line. */
export function marker(): string {
  return `isolate-marker-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Pids of live processes whose command line contains `text` (this test process excluded). */
export async function pidsWith(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await Array.fromAsync(new Bun.Glob("[0-9]*").scan({ cwd: "/proc", onlyFiles: false }))) {
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmd = await Bun.file(`/proc/${pid}/cmdline`).text();
      if (cmd.includes(text)) out.push(pid);
    } catch {}
  }
  return out;
}

/**
 * Pids of the sandbox inits of the isolate process `supervisor`: each carries
 * ISOLATE_SUPERVISOR=PID in its environment (not its argv, which the sandbox
 * sees as /proc/1/cmdline).
 */
export async function initsOf(supervisor: number): Promise<number[]> {
  const entry = `\0ISOLATE_SUPERVISOR=${supervisor}\0`;
  const out: number[] = [];
  for (const name of await Array.fromAsync(new Bun.Glob("[0-9]*").scan({ cwd: "/proc", onlyFiles: false }))) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const env = `\0${await Bun.file(`/proc/${pid}/environ`).text()}`;
      if (env.includes(entry)) out.push(pid);
    } catch {}
  }
  return out;
}

/** The sandbox init: the (first) child of the isolate process `pid`, once it exists. */
export async function initOf(pid: number): Promise<number | undefined> {
  return waitFor(() => {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
        if (kids) return Number(kids.split(" ")[0]);
      }
    } catch {}
    return undefined;
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until fn() is truthy or the deadline passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await sleep(stepMs);
  }
}

/** Compile test/helpers/fixtures/NAME.c once (gcc) and return the binary's path. */
export async function probe(name: string, flags: string[] = []): Promise<string> {
  const out = join(SCRATCH, "probes", name);
  const src = join(ROOT, "test", "helpers", "fixtures", `${name}.c`);
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    await Bun.$`mkdir -p ${join(SCRATCH, "probes")}`.quiet();
    const r = await Bun.$`gcc -O1 -Wall -Werror ${flags} -o ${out}.tmp ${src}`.nothrow();
    if (r.exitCode !== 0) throw new Error(`cannot build probe ${name}: ${r.stderr}`);
    await Bun.$`mv ${out}.tmp ${out}`.quiet();
  }
  return out;
}
