/** One process, many sandboxes: the event loop keeps running and every result is right. */
import { expect, test } from "bun:test";
import { run, spawn } from "../../src/index.ts";

test("50 sandboxes run concurrently from one process while a timer keeps ticking", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      run({ command: ["sh", "-c", `sleep 0.5; echo $(hostname) ${i}; exit ${i % 7}`], hostname: `box${i}` }),
    ),
  );
  const elapsed = performance.now() - t0;
  clearInterval(timer);
  results.forEach((r, i) => {
    expect(r.stdout).toBe(`box${i} ${i}\n`);
    expect(r.exitCode).toBe(i % 7);
    expect(r.reason).toBe("ok");
  });
  // Concurrent, not one after another (50 x 0.5 s), and the loop was never starved.
  expect(elapsed).toBeLessThan(10_000);
  expect(ticks).toBeGreaterThan((elapsed / 10) * 0.5);
});

test("run() keeps output up to its bound and says it truncated", async () => {
  const r = await run({ command: ["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"] }, { maxOutputBytes: 1000 });
  expect(r.stdout).toHaveLength(1000);
  expect(r.truncated).toEqual({ stdout: true, stderr: false });
  expect(r.exitCode).toBe(0);
});

test("run() feeds input to stdin and the command reads EOF after it", async () => {
  const r = await run({ command: ["sh", "-c", "wc -c; cat"] }, { input: "hello\n" });
  expect(r.stdout).toBe("6\n");
  expect(r.exitCode).toBe(0);
});

test("spawn() with stdin: pipe gives a writable stdin", async () => {
  const sb = spawn({ command: ["tr", "a-z", "A-Z"] }, { stdin: "pipe", stdout: "pipe" });
  sb.stdin?.write("shout\n");
  await sb.stdin?.end();
  const out = await new Response(sb.stdout).text();
  expect(out).toBe("SHOUT\n");
  expect((await sb.exited).exitCode).toBe(0);
});
