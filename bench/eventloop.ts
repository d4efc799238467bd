/**
 * The event loop while sandboxes start: `bun bench/eventloop.ts`.
 *
 * A 1 ms interval timer records when it runs while 20 spawn() calls start
 * at once (a sandbox of `true` each); the gaps between its ticks show how
 * long the JS thread was held. Rounds alternate without and with
 * `--memory 64M` (cgroup placement before the sandbox runs). Prints the
 * median over rounds of each round's largest gap and of its p99 gap.
 *
 *   BENCH_ROUNDS (default 15), BENCH_CONCURRENT (default 20)
 */
import { spawn } from "../src/index.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const N = Number(process.env.BENCH_CONCURRENT ?? 20);

export interface Gaps {
  readonly maxMs: number;
  readonly p99Ms: number;
  readonly totalMs: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};
export const median = (xs: number[]) => quantile(xs, 0.5);

/** The gaps between ticks of a 1 ms timer while n sandboxes start and end. */
export async function measure(n: number, limits: Record<string, unknown> | undefined): Promise<Gaps> {
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 1);
  // Let the timer settle first.
  await Bun.sleep(5);
  const t0 = performance.now();
  ticks.push(t0);
  const spec = limits ? { command: ["true"], limits } : { command: ["true"] };
  const results = await Promise.all(Array.from({ length: n }, () => spawn(spec).exited));
  const t1 = performance.now();
  ticks.push(t1);
  clearInterval(timer);
  for (const r of results) if (r.exitCode !== 0) throw new Error(`sandbox failed: ${JSON.stringify(r.error ?? r)}`);
  const gaps: number[] = [];
  const inRun = ticks.filter((t) => t >= t0).sort((a, b) => a - b);
  for (let i = 1; i < inRun.length; i++) gaps.push((inRun[i] ?? 0) - (inRun[i - 1] ?? 0));
  return { maxMs: Math.max(...gaps), p99Ms: quantile(gaps, 0.99), totalMs: t1 - t0 };
}

async function main(): Promise<void> {
  const cases: [string, Record<string, unknown> | undefined][] = [
    ["default", undefined],
    ["--memory 64M", { memory: "64M" }],
  ];
  for (const [, l] of cases) await measure(4, l); // warm
  const out = cases.map(() => ({ max: [] as number[], p99: [] as number[], total: [] as number[] }));
  for (let i = 0; i < ROUNDS; i++) {
    for (const [k, [, l]] of cases.entries()) {
      const g = await measure(N, l);
      out[k]?.max.push(g.maxMs);
      out[k]?.p99.push(g.p99Ms);
      out[k]?.total.push(g.totalMs);
    }
  }
  console.log(`event loop: ${N} concurrent spawn() of true, 1 ms timer, ${ROUNDS} rounds (medians over rounds)`);
  console.log("                     max gap    p99 gap    all done   worst max gap");
  for (const [k, [label]] of cases.entries()) {
    const o = out[k];
    if (!o) continue;
    const f = (x: number) => `${x.toFixed(2)} ms`.padEnd(10);
    console.log(
      `  ${label.padEnd(18)} ${f(median(o.max))} ${f(median(o.p99))} ${f(median(o.total))} ${f(Math.max(...o.max))}`,
    );
  }
}

if (import.meta.main) await main();
