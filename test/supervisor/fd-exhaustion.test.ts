/**
 * Under `ulimit -n 256` (issue 15), the errors name the real cause: pipe and
 * memfd creation ran out of fds (not "clone"), and the init that died of it
 * (not "writing uid_map: Permission denied" or "release the sandbox").
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IS_ROOT, NOBODY, ROOT, sh, tempDir } from "../helpers/index.ts";

const dir = tempDir("isolate-fds-");
chmodSync(dir.path, 0o755);
afterAll(() => dir.remove());

const script = join(dir.path, "many.ts");
writeFileSync(
  script,
  `import { spawn } from ${JSON.stringify(join(ROOT, "src/index.ts"))};
const sbs = [];
let error = "none";
try {
  for (let i = 0; i < 200; i++) sbs.push(spawn({ command: ["sleep", "5"] }, { stdin: "pipe", stdout: "pipe", stderr: "pipe" }));
} catch (e) {
  error = e.text?.() ?? String(e);
}
// A setup that failed rejects ready (the sandboxes start after spawn() returns).
const started = await Promise.allSettled(sbs.map((s) => s.ready));
const failed = started.find((s) => s.status === "rejected");
if (error === "none" && failed) error = failed.reason.text?.() ?? String(failed.reason);
for (const s of sbs) s.kill("SIGKILL");
await Promise.allSettled(sbs.map((s) => s.exited));
console.log(error);
`,
);
chmodSync(script, 0o644);

async function exhaust(nobody: boolean): Promise<string> {
  const argv = ["bash", "-c", `ulimit -n 256 && exec '${process.execPath}' '${script}'`];
  const r = await sh(nobody ? [...NOBODY, ...argv] : argv, { cwd: dir.path, timeoutMs: 60_000 });
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

test("out of fds, the error says so and how to fix it (as root)", async () => {
  const msg = await exhaust(false);
  expect(msg).toMatch(/out of file descriptors|ran out of file descriptors/);
  expect(msg).toContain("ulimit -n");
  expect(msg).not.toMatch(/^spawn: clone:/);
}, 90_000);

(IS_ROOT ? test : test.skip)(
  "out of fds, the error says so and how to fix it (as nobody)",
  async () => {
    const msg = await exhaust(true);
    expect(msg).toMatch(/out of file descriptors|ran out of file descriptors/);
    expect(msg).toContain("ulimit -n");
  },
  90_000,
);
