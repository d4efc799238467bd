/** Help people can read: wrapped to the terminal (80 when piped), EXAMPLES and EXIT STATUS, colour only on a terminal. */
import { describe, expect, test } from "bun:test";
import { FLAGS, flagsFor } from "../../src/cli/flags.ts";
import { BIN, isolate, sh } from "../helpers/index.ts";

const COMMANDS = ["exec", "plan", "check", "clean", "completion", "man"];
const ESC = "\x1b[";

/** Run `isolate ARGS` on a pty of `cols` columns (script(1)); the output as the terminal got it. */
async function onTty(args: string[], cols: number, env: Record<string, string | undefined> = {}): Promise<string> {
  const cmd = `stty cols ${cols}; ${[BIN, ...args].join(" ")}`;
  const r = await sh(["script", "-qec", cmd, "/dev/null"], { env: { ...process.env, TERM: "xterm", ...env } });
  expect(r.code).toBe(0);
  return r.stdout.replace(/\r/g, "");
}

const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const visible = (s: string) => s.replace(SGR, "");

describe("--help", () => {
  for (const c of COMMANDS) {
    test(`isolate ${c} --help: USAGE, FLAGS, EXAMPLES, EXIT STATUS, 80 columns, no colour when piped`, async () => {
      const r = await isolate([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      for (const s of ["USAGE", "FLAGS", "EXAMPLES", "EXIT STATUS"]) expect(r.stdout).toContain(`\n${s}\n`);
      expect(r.stdout).toContain(`$ isolate ${c}`);
      for (const line of r.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
      expect(r.stdout).not.toContain(ESC);
    });
  }

  test("isolate help exec is isolate exec --help; isolate --help lists every command", async () => {
    expect((await isolate(["help", "exec"])).stdout).toBe((await isolate(["exec", "--help"])).stdout);
    const main = await isolate(["--help"]);
    expect(main.code).toBe(0);
    for (const c of COMMANDS) expect(main.stdout).toContain(`  ${c} `);
    expect(main.stdout).not.toContain("complete ");
  });

  test("every flag of the table is in exec's help (flags added later appear too)", async () => {
    const r = await isolate(["exec", "--help"]);
    for (const f of flagsFor("exec")) expect(r.stdout).toContain(`  ${f.name}${f.value ? ` ${f.value}` : ""}`);
    const plan = await isolate(["plan", "--help"]);
    for (const f of FLAGS.filter((f) => f.only === undefined)) expect(plan.stdout).toContain(`  ${f.name}`);
  });

  test("on a terminal: wrapped to its width, headings in bold, flags in colour", async () => {
    const out = await onTty(["exec", "--help"], 60);
    expect(out).toContain(`${ESC}1mUSAGE`);
    expect(out).toContain(`${ESC}36m--memory SIZE`);
    const lines = visible(out).split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines.some((l) => l.length > 50)).toBe(true);
    const wide = visible(await onTty(["exec", "--help"], 120)).split("\n");
    expect(wide.some((l) => l.length > 80)).toBe(true);
  });

  test("NO_COLOR and TERM=dumb: no colour even on a terminal", async () => {
    expect(await onTty(["plan", "--help"], 80, { NO_COLOR: "1" })).not.toContain(ESC);
    expect(await onTty(["plan", "--help"], 80, { TERM: "dumb" })).not.toContain(ESC);
    // An empty NO_COLOR is not set (no-color.org).
    expect(await onTty(["plan", "--help"], 80, { NO_COLOR: "" })).toContain(ESC);
  });
});
