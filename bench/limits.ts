/**
 * What limits cost a one-shot sandbox: `bun bench/limits.ts` (as root, after npm run build).
 *
 *   one-shot   `isolate exec -- true`, plain and with --memory 64M (and more limits), interleaved
 *   library    the same through spawn() in this process
 *   placement  the bare cgroup work of one v1 sandbox, nsjail-style: mkdir a memory cgroup,
 *              write a fresh child's pid into its cgroup.procs, rmdir (no isolate code at all)
 *
 * Prints medians. On cgroup v1 the price is mostly the kernel's: moving a task
 * between cgroups waits for an RCU grace period. On v2, CLONE_INTO_CGROUP
 * places the sandbox at clone instead.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups } from "../src/cgroup/detect.ts";
import { spawn } from "../src/index.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist", "isolate");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

const CASES: Record<string, string[]> = {
  none: [],
  "--memory 64M": ["--memory", "64M"],
  "--memory 64M --pids 64 --cpus 1": ["--memory", "64M", "--pids", "64", "--cpus", "1"],
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

function once(argv: string[]): number {
  const t = performance.now();
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.exitCode} ${r.stderr}`);
  return performance.now() - t;
}

async function library(flags: string[]): Promise<number> {
  const limits: Record<string, string> = {};
  for (let i = 0; i < flags.length; i += 2) {
    const key = (flags[i] ?? "").slice(2).replace(/-(.)/g, (_, c: string) => c.toUpperCase());
    limits[key] = flags[i + 1] ?? "";
  }
  const t = performance.now();
  const r = await spawn({ command: ["true"], limits }, { stdout: "null" }).exited;
  if (r.exitCode !== 0) throw new Error(`library: ${JSON.stringify(r)}`);
  return performance.now() - t;
}

/** nsjail-style v1 placement by hand: the floor any v1 tool pays per sandbox. */
async function placement(dir: string): Promise<number> {
  const child = Bun.spawn(["sleep", "10"]);
  const t = performance.now();
  mkdirSync(dir);
  writeFileSync(`${dir}/cgroup.procs`, String(child.pid));
  let ms = performance.now() - t;
  child.kill(9);
  await child.exited;
  const t2 = performance.now();
  for (let i = 0; i < 1000; i++) {
    try {
      rmdirSync(dir);
      break;
    } catch {
      await Bun.sleep(1);
    }
  }
  ms += performance.now() - t2;
  return ms;
}

async function main(): Promise<void> {
  if (!existsSync(BIN)) {
    console.error("bench: dist/isolate missing (npm run build)");
    process.exit(2);
  }
  const layout = detectCgroups();
  console.log(`cgroups: memory on v${layout.controllers.memory.version}, pids on v${layout.controllers.pids.version}`);

  const oneShot: Record<string, number[]> = {};
  const lib: Record<string, number[]> = {};
  for (const [name, flags] of Object.entries(CASES)) {
    once([BIN, "exec", ...flags, "--", "true"]);
    await library(flags);
    oneShot[name] = [];
    lib[name] = [];
  }
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, flags] of Object.entries(CASES)) {
      oneShot[name]?.push(once([BIN, "exec", ...flags, "--", "true"]));
      lib[name]?.push(await library(flags));
    }
  }
  const base = median(oneShot.none ?? []);
  const libBase = median(lib.none ?? []);
  console.log("\none-shot `isolate exec [limits] -- true`, median of", ROUNDS);
  for (const [name, xs] of Object.entries(oneShot)) {
    const m = median(xs);
    console.log(`  ${name.padEnd(34)} ${m.toFixed(2)} ms  (+${(m - base).toFixed(2)} ms)`);
  }
  console.log("\nlibrary spawn() of `true`, median of", ROUNDS);
  for (const [name, xs] of Object.entries(lib)) {
    const m = median(xs);
    console.log(`  ${name.padEnd(34)} ${m.toFixed(2)} ms  (+${(m - libBase).toFixed(2)} ms)`);
  }

  const mem = layout.controllers.memory;
  if (mem.version === 1) {
    const dir = `${mem.hierarchy.dir}/isolate-${process.pid}-bench`;
    const xs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) xs.push(await placement(dir));
    console.log(
      `\nbare v1 placement (mkdir, write a pid to cgroup.procs, rmdir), median of ${ROUNDS}: ${median(xs).toFixed(2)} ms`,
    );
  }
}

await main();
