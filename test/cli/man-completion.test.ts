/** isolate man (and docs/isolate.1) and isolate completion: rendered from the same tables as --help. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { flagsFor } from "../../src/cli/flags.ts";
import { BIN, isolate, needs, ROOT, sh } from "../helpers/index.ts";

const roffFlag = (name: string) => `\\fB${name.replace(/-/g, "\\-")}\\fR`;

describe("isolate man", () => {
  test("prints roff naming every flag, every command and the exit codes", async () => {
    const r = await isolate(["man"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(".TH ISOLATE 1")).toBe(true);
    for (const f of flagsFor("exec")) expect(r.stdout).toContain(roffFlag(f.name));
    for (const s of ["SYNOPSIS", "EXIT STATUS", "PROFILES", "ENV FILES", "EXAMPLES"])
      expect(r.stdout).toContain(`.SH ${s}`);
    for (const c of ["plan", "check", "clean", "completion"]) expect(r.stdout).toContain(roffFlag(`isolate ${c}`));
  });

  test("docs/isolate.1 is what isolate man prints (bun scripts/gen-man.ts regenerates it)", async () => {
    const r = await isolate(["man"]);
    expect(readFileSync(join(ROOT, "docs", "isolate.1"), "utf8")).toBe(r.stdout);
  });

  needs(existsSync("/usr/bin/groff"), "groff")("renders with no roff warning", async () => {
    const r = await sh(["sh", "-c", `${BIN} man | groff -man -Tutf8 -ww -z`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

/** `isolate complete -- WORDS`: the values, then `:DIRECTIVE`. */
async function complete(...words: string[]): Promise<{ values: string[]; directive: string }> {
  const r = await isolate(["complete", "--", ...words]);
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split("\n");
  return { values: lines.slice(0, -1).map((l) => l.split("\t")[0] ?? ""), directive: lines.at(-1) ?? "" };
}

describe("isolate completion", () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    test(`completion ${shell} prints a script that asks isolate complete`, async () => {
      const r = await isolate(["completion", shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("isolate complete --");
    });
  }

  test("an unknown shell is 125 with the closest one", async () => {
    const r = await isolate(["completion", "zhs"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("did you mean zsh?");
  });

  test("commands, flags from the table, and fixed values complete", async () => {
    expect((await complete("ex")).values).toEqual(["exec"]);
    const mem = await complete("exec", "--mem");
    expect(mem.values).toEqual(["--memory", "--memory-swap"]);
    expect((await complete("exec", "--share", "")).values).toEqual(
      expect.arrayContaining(["pid", "net", "mount", "user"]),
    );
    expect((await complete("plan", "--landlock", "")).values).toEqual(["on", "off", "auto"]);
    expect((await complete("clean", "--")).values).toContain("--dry-run");
    expect((await complete("completion", "")).values).toEqual(["bash", "zsh", "fish"]);
    // Every flag of the table (flags other helpers add included).
    const all = (await complete("exec", "--")).values;
    for (const f of flagsFor("exec")) expect(all).toContain(f.name);
  });

  test("paths and the command are left to the shell's file completion", async () => {
    for (const words of [
      ["exec", "--bind", ""],
      ["exec", "--profile", ""],
      ["exec", "--env-file=./"],
      ["exec", "--", ""],
      ["exec", "--memory", "1G", "ma"],
    ]) {
      const c = await complete(...words);
      expect(c.values).toEqual([]);
      expect(c.directive).toBe(":0");
    }
  });

  const bashCompletion = "/usr/share/bash-completion/bash_completion";
  needs(existsSync(bashCompletion), "bash-completion (apt-get install bash-completion)")(
    "bash completes through the script",
    async () => {
      const script = `
        source ${bashCompletion}
        source <(isolate completion bash)
        COMP_WORDS=(isolate exec --memory-s); COMP_CWORD=2; COMP_LINE="isolate exec --memory-s"; COMP_POINT=\${#COMP_LINE}
        __isolate_complete; echo "[\${COMPREPLY[*]}]"
        COMP_WORDS=(isolate pl); COMP_CWORD=1; COMP_LINE="isolate pl"; COMP_POINT=\${#COMP_LINE}
        __isolate_complete; echo "[\${COMPREPLY[*]}]"
        complete -p isolate`;
      const r = await sh(["bash", "-c", script], {
        env: { ...process.env, PATH: `${join(BIN, "..")}:${process.env.PATH}` },
      });
      expect(r.stdout).toContain("[--memory-swap]");
      expect(r.stdout).toContain("[plan]");
      expect(r.stdout).toContain("complete -o default -F __isolate_complete isolate");
    },
  );
});
