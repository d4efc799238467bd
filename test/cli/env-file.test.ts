/** --env-file FILE: docker's format, read safely on the host, errors naming the file and line. */
import { afterAll, describe, expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnvFile } from "../../src/cli/env-file.ts";
import { isolate, tempDir } from "../helpers/index.ts";

const dir = tempDir("isolate-envfile-");
afterAll(() => dir.remove());

const file = (name: string, text: string) => {
  const p = join(dir.path, name);
  writeFileSync(p, text);
  return p;
};

describe("the format (docker's)", () => {
  test("comments, blanks, verbatim values, pass-through names", () => {
    const text = '\uFEFF# a comment\n\n   # indented comment\nA=1\n  B=two words  \nC="quoted"\nD=x=y#z\nE=\nF\r\n';
    expect(parseEnvFile("f", text)).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "two words  " },
      { name: "C", value: '"quoted"' },
      { name: "D", value: "x=y#z" },
      { name: "E", value: "" },
      { name: "F" },
    ]);
  });

  test("errors name the file and the line", () => {
    expect(() => parseEnvFile("my.env", "A=1\n=2\n")).toThrow("--env-file my.env:2: no variable name before '='");
    expect(() => parseEnvFile("my.env", "A=1\n\nB C=1\n")).toThrow(
      '--env-file my.env:3: variable name "B C" contains whitespace',
    );
  });
});

describe("isolate exec --env-file", () => {
  test("the command gets the variables, in order with --env; KEY alone passes the caller's", async () => {
    const f = file("a.env", "A=from file\nB\nC=file\nMISSING\n");
    const r = await isolate(
      [
        "exec",
        "--env",
        "C=flag-before",
        "--env-file",
        f,
        "--env",
        "A=flag-after",
        "--",
        "sh",
        "-c",
        `echo "$A|$B|$C|$\{MISSING-unset}"`,
      ],
      { env: { ...process.env, B: "caller", MISSING: undefined } },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("flag-after|caller|file|unset\n");
  });

  test("a missing file, a bad line: 125 naming the file (and line)", async () => {
    const missing = await isolate(["exec", "--env-file", join(dir.path, "nope.env"), "--", "true"]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toBe(`isolate: --env-file ${join(dir.path, "nope.env")}: No such file or directory\n`);
    const bad = file("bad.env", "OK=1\nNOT OK=2\n");
    const r = await isolate(["exec", "--env-file", bad, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`--env-file ${bad}:2:`);
  });

  test("a symbolic link is not followed; a FIFO is refused, not waited on", async () => {
    const target = file("real.env", "A=1\n");
    const link = join(dir.path, "link.env");
    symlinkSync(target, link);
    const r = await isolate(["exec", "--env-file", link, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `isolate: --env-file ${link}: is a symbolic link: refusing to follow it (pass the path it points to)\n`,
    );
    const fifo = join(dir.path, "fifo.env");
    Bun.spawnSync(["mkfifo", fifo]);
    const f = await isolate(["exec", "--env-file", fifo, "--", "true"], { timeoutMs: 5000 });
    expect(f.code).toBe(125);
    expect(f.stderr).toBe(`isolate: --env-file ${fifo}: not a regular file\n`);
  });
});
