/** Named sandboxes and the trust boundary: the state is data, checked before use (issue 10). */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IS_ROOT, marker, pidsWith } from "../helpers/index.ts";
import { CLEANUP_MS, nameFor, TEST_MS, type User, user } from "../helpers/named.ts";

setDefaultTimeout(TEST_MS);

const u = IS_ROOT ? user(0) : undefined;
afterAll(async () => {
  await u?.cleanup();
}, CLEANUP_MS);

function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

test.if(IS_ROOT)("a state file pointing enter at another process is refused, nothing runs", async () => {
  const r = u as User;
  const name = nameFor(r, "forged");
  expect((await r.run(["exec", "--name", name, "--detach", "--", "sleep", "60"])).code).toBe(0);
  const file = join(r.stateDir, `${name}.json`);
  const original = readFileSync(file, "utf8");
  const state = JSON.parse(original);
  // This test process: alive, the recorded start time right, but not the sandbox's init.
  state.init = { pid: process.pid, start: startTimeOf(process.pid) };
  writeFileSync(file, JSON.stringify(state));
  const tag = marker();
  const e = await r.run(["enter", name, "--", "sh", "-c", `: ${tag}; sleep 5`]);
  expect(e.code).toBe(125);
  expect(e.stderr).toContain("not running");
  expect((await pidsWith(tag)).length).toBe(0);
  const j = await r.run(["exec", "--join", `${name}:net`, "--", "true"]);
  expect(j.code).toBe(125);
  // stop refuses to signal it: this process lives on
  const s = await r.run(["stop", name, "--kill-after", "100ms"]);
  expect(s.code).toBe(125);
  // the true state back: the sandbox is stopped like any other (afterAll's cleanup relies on it)
  writeFileSync(file, original);
  expect((await r.run(["stop", name, "--kill-after", "500ms"])).code).toBe(0);
});

test.if(IS_ROOT)("a named sandbox that could write the state directory is refused before it starts", async () => {
  const r = u as User;
  const name = nameFor(r, "reach");
  const parent = r.stateDir.replace(/\/isolate$/, "");
  mkdirSync(r.stateDir, { recursive: true, mode: 0o700 });
  const bind = await r.run(["exec", "--name", name, "--bind", parent, "--", "true"]);
  expect(bind.code).toBe(125);
  expect(bind.stderr).toContain("could write isolate's state directory");
  const ro = await r.run(["exec", "--name", name, "--ro-bind", parent, "--", "true"]);
  expect(ro.code).toBe(0);
});

test.if(IS_ROOT)("ps and clean read the state; they make no state directory where there is none", async () => {
  const fresh = user(65534);
  try {
    for (const args of [["ps"], ["ps", "--json"], ["clean", "--dry-run"], ["clean"]]) {
      const r = await fresh.run(args);
      expect(r.code).toBe(0);
      expect(existsSync(fresh.stateDir)).toBe(false);
    }
  } finally {
    await fresh.cleanup();
  }
});
