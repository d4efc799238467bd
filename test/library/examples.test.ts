/** The three library programs of the README, in examples/, run as a user would run them. */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sh, tempDir } from "../helpers/index.ts";

const example = (name: string, args: string[] = [], cwd = ROOT) =>
  sh([process.execPath, join(ROOT, "examples", name), ...args], { cwd, timeoutMs: 60_000 });

test("the judge accepts a right answer and names each wrong outcome", async () => {
  const verdicts = async (src?: string) =>
    (await example("judge.ts", src === undefined ? [] : [src])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).verdict);
  expect(await verdicts()).toEqual(["accepted", "accepted"]);
  expect(await verdicts("echo 0")).toEqual(["wrong answer", "wrong answer"]);
  expect(await verdicts("trap '' TERM; sleep 10")).toEqual(["time limit exceeded", "time limit exceeded"]);
  expect(await verdicts("yes")).toEqual(["output limit exceeded", "output limit exceeded"]);
  expect(await verdicts("exit 3")).toEqual(["runtime error", "runtime error"]);
}, 60_000);

test("the streaming client prints what the sandboxed filter makes of its input", async () => {
  const r = await example("stream.ts");
  expect(r.stdout).toBe("ONE\nTWO\nTHREE\n");
  expect(r.stderr).toBe("exit 0, reason ok\n");
});

test("the CI step runner runs each step in the workspace it may write", async () => {
  const dir = tempDir();
  try {
    const r = await example("ci-steps.ts", [dir.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("::write:: ok exit 0");
    expect(r.stdout).toContain("::check:: ok exit 0");
    expect(r.stdout).toContain("main.c");
    expect(existsSync(join(dir.path, "main.c"))).toBe(true);
  } finally {
    dir.remove();
  }
});
