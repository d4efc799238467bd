/**
 * A judge: run a submission on each test, with limits, and give a verdict.
 * `bun examples/judge.ts` judges a built-in submission; the verdicts go to stdout as JSON lines.
 */
import { type RunResult, run } from "../src/index.ts";

const tests = [
  { input: "1 2\n", expected: "3\n" },
  { input: "40 2\n", expected: "42\n" },
];

/** The submission: a script that sums two numbers (a real judge would run a compiled binary). */
const submission = ["sh", "-c", process.argv[2] ?? "read a b; echo $((a + b))"];

function verdict(r: RunResult, expected: string): string {
  switch (r.reason) {
    case "ok":
      return r.exitCode !== 0 ? "runtime error" : r.stdout === expected ? "accepted" : "wrong answer";
    case "timeout":
    case "cpu-time":
      return "time limit exceeded";
    case "oom":
      return "memory limit exceeded";
    case "output":
      return "output limit exceeded";
    case "setup":
    case "exec":
      return `judge error: ${r.error.message}`;
    default:
      return r.reason;
  }
}

for (const t of tests) {
  const r = await run(
    {
      command: submission,
      // No cwd: the submission sees nothing of the judge's directory, and writes nowhere but /tmp.
      cwdMount: "none",
      limits: { timeout: "2s", cpuTime: "1s", memory: "256M", pids: 16 },
      // A submission that ignores SIGTERM is killed 100 ms after its limit, not 10 s.
      killAfter: "100ms",
    },
    { input: t.input, maxOutputBytes: 1 << 16, outputLimit: "kill" },
  );
  console.log(JSON.stringify({ verdict: verdict(r, t.expected), wallMs: r.wallMs, cpu: r.cpu }));
}
