/** Issue 12's CLI bugs: clean --help, clean --bogus, plan --json/--report, --env --, --pids 1. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, isolate, sh, tempDir } from "../helpers/index.ts";

describe("clean", () => {
  test("clean --help prints help and touches no cgroup", async () => {
    const t = tempDir("isolate-clean-help-");
    try {
      const trace = join(t.path, "trace");
      const r = await sh(["strace", "-f", "-qq", "-e", "trace=openat,rmdir", "-o", trace, BIN, "clean", "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
      expect(r.stdout).toContain("--dry-run");
      expect(r.stdout).toContain("EXIT STATUS");
      // Bun itself reads its own cgroup's limits at startup; the clean lists cgroup directories.
      const calls = readFileSync(trace, "utf8");
      expect(calls).not.toMatch(/openat\([^)]*\/sys\/fs\/cgroup[^)]*O_DIRECTORY/);
      expect(calls).not.toMatch(/rmdir\(/);
    } finally {
      t.remove();
    }
  });

  test("clean --bogus is 125, before anything is removed, with the closest flag", async () => {
    const r = await isolate(["clean", "--bogus"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: clean: unknown flag --bogus (see isolate clean --help)\n");
    const near = await isolate(["clean", "--dry-rn"]);
    expect(near.code).toBe(125);
    expect(near.stderr).toContain("did you mean --dry-run?");
    const word = await isolate(["clean", "now"]);
    expect(word.code).toBe(125);
  });

  test("check takes only --json", async () => {
    const r = await isolate(["check", "--jsn"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("did you mean --json?");
  });
});

describe("plan", () => {
  test("plan --json writes the plan to stdout, nothing to stderr, and its help says stdout", async () => {
    const r = await isolate(["plan", "--json", "--", "true"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).spec.command).toEqual(["true"]);
    const help = await isolate(["plan", "--help"]);
    const flags = help.stdout.slice(help.stdout.indexOf("FLAGS"), help.stdout.indexOf("EXAMPLES"));
    const json = flags.slice(flags.indexOf("--json"), flags.indexOf("--help"));
    expect(json).toContain("stdout");
    expect(json).not.toContain("stderr");
    expect(help.stdout).not.toContain("run report");
  });

  test("plan rejects the flags that mean nothing for it: --report, --report-fd (125)", async () => {
    for (const args of [
      ["--report", "/tmp/x.json"],
      ["--report-fd", "3"],
    ]) {
      const r = await isolate(["plan", ...args, "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toBe(
        `isolate: plan takes no ${args[0]} (a flag of isolate exec: plan runs nothing and writes no report)\n`,
      );
    }
  });

  test("exec --help lists --report; plan --help does not", async () => {
    expect((await isolate(["exec", "--help"])).stdout).toContain("--report-fd");
    const plan = (await isolate(["plan", "--help"])).stdout;
    expect(plan).toContain("\nFLAGS\n");
    expect(plan.slice(plan.indexOf("FLAGS"))).not.toContain("--report");
  });
});

describe("--env", () => {
  test("--env -- is not a variable name: 125", async () => {
    const r = await isolate(["exec", "--env", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --env needs a value (K=V|K) before --\n");
    const eq = await isolate(["exec", "--env=--", "--", "true"]);
    expect(eq.code).toBe(125);
    expect(eq.stderr).toContain("not a variable name");
  });

  test("a flag where a value belongs is named", async () => {
    const r = await isolate(["plan", "--hostname", "--memory", "1G", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --hostname needs a value (NAME) before --memory\n");
  });
});

describe("--pids", () => {
  test("--pids 1 is refused before anything starts, saying the init counts", async () => {
    const r = await isolate(["exec", "--pids", "1", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `isolate: --pids "1": must be at least 2: the sandbox's init counts as one, the command is the second\n`,
    );
    expect((await isolate(["plan", "--pids", "2", "--", "true"])).code).toBe(0);
    expect((await isolate(["exec", "--help"])).stdout).toMatch(/--pids N[\s\S]*init included/);
  });
});
