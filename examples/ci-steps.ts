/**
 * A CI step runner: each step in its own sandbox, with the workspace writable
 * (asked for: the library's default is read-only), stopping at the first failure.
 * `bun examples/ci-steps.ts [DIR]` runs the steps in DIR (default: a fresh temp dir).
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { run } from "../src/index.ts";

const workspace = process.argv[2] ?? mkdtempSync(join(process.cwd(), "ci-"));
const steps = [
  { name: "write", command: ["sh", "-c", "echo 'int main(void){return 0;}' > main.c"] },
  { name: "list", command: ["ls", "-l"] },
  { name: "check", command: ["sh", "-c", "test -s main.c && echo ok"] },
];

for (const step of steps) {
  const r = await run(
    {
      command: step.command,
      cwd: workspace,
      mounts: [{ type: "bind", src: workspace }],
      env: { CI: "true" },
      limits: { timeout: "5m", memory: "1G" },
    },
    { maxOutputBytes: 1 << 20 },
  );
  process.stdout.write(`::${step.name}:: ${r.reason} exit ${r.exitCode} in ${Math.round(r.wallMs)} ms\n${r.stdout}`);
  if (r.exitCode !== 0) process.exit(r.exitCode);
}
