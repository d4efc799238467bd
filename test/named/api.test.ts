/** Named sandboxes through the library: spawnNamed, list, open (issue 10). */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { IS_ROOT } from "../helpers/index.ts";
import { CLEANUP_MS, TEST_MS, user } from "../helpers/named.ts";

setDefaultTimeout(TEST_MS);

// The library reads XDG_RUNTIME_DIR once: point it at this test's own state directory.
// (It is under the checkout, the working directory here: the sandboxes get no cwd, or they could write it.)
const u = IS_ROOT ? user(0) : undefined;
const xdgBefore = process.env.XDG_RUNTIME_DIR;
if (u) process.env.XDG_RUNTIME_DIR = u.stateDir.replace(/\/isolate$/, "");
const lib = await import("../../src/index.ts");
afterAll(async () => {
  await u?.cleanup();
  // bun test runs every file in one process: later files (and the CLIs they start) get the caller's own.
  if (xdgBefore === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = xdgBefore;
}, CLEANUP_MS);

async function readAll(s: ReadableStream<Uint8Array> | null): Promise<string> {
  return s ? await new Response(s).text() : "";
}

test.if(IS_ROOT)("detached through the library: open, enter, stats, stop, wait; list", async () => {
  const name = `lib-${process.pid}`;
  u?.names.add(name);
  const h = await lib.spawnNamed(
    { command: ["sh", "-c", "echo hi > /tmp/x; sleep 60"], hostname: "libbox", limits: { pids: 32 }, cwdMount: "none" },
    { name, detach: true },
  );
  expect(h.sandbox).toBeNull();
  expect(lib.list().find((i) => i.name === name)?.state).toBe("running");
  await Bun.sleep(200);
  const e = h.enter(["sh", "-c", "hostname; cat /tmp/x"], { stdout: "pipe" });
  const [text, r] = await Promise.all([readAll(e.stdout), e.exited]);
  expect(r.exitCode).toBe(0);
  expect(text).toBe("libbox\nhi\n");
  const again = lib.open(name).enter(["cat", "/tmp/x"], { stdout: "null" });
  expect((await again.exited).exitCode).toBe(0);
  expect(h.stats().pids).toBeGreaterThanOrEqual(1);
  await h.stop({ killAfterMs: 500 });
  const report = await h.wait();
  expect(report.reason).toBe("killed");
  h.remove();
  expect(lib.list().find((i) => i.name === name)).toBeUndefined();
  expect(() => lib.open(name)).toThrow("no such sandbox");
});

test.if(IS_ROOT)("in-process: this process is the monitor; the result is kept in the state", async () => {
  const name = `libfg-${process.pid}`;
  u?.names.add(name);
  const h = await lib.spawnNamed(
    { command: ["sh", "-c", "sleep 0.5; exit 4"], cwdMount: "none" },
    { name, stdout: "pipe" },
  );
  expect(h.sandbox).not.toBeNull();
  const out = h.enter(["echo", "joined"], { stdout: "pipe" });
  expect(await readAll(out.stdout)).toBe("joined\n");
  expect((await out.exited).exitCode).toBe(0);
  await readAll(h.sandbox?.stdout ?? null);
  const result = await h.sandbox?.exited;
  expect(result?.exitCode).toBe(4);
  expect((await h.wait()).exitCode).toBe(4);
  expect(h.info().state).toBe("exited");
  h.remove();
});
