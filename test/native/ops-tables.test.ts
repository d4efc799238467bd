/**
 * The C side's opcode tables are generated from src/plan/ops.ts and its
 * flags from src/plan/flags.ts (scripts/gen-ops.ts): an op added to the
 * table without its executor or value check in native/ fails the build, and the
 * C flags are the TypeScript ones, with no copy of them left in native/.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CC, INIT_SOURCES, SHARED_SOURCES, STATIC_NO_LIBC, sourcePaths } from "../../scripts/build-native.ts";
import { execFn, type OpTable, opsSources, valuesFn, writeOpsSources } from "../../scripts/gen-ops.ts";
import { SHARED_FLAGS } from "../../src/plan/flags.ts";
import { OPS, type OpDef } from "../../src/plan/ops.ts";
import { ROOT, sh, tempDir } from "../helpers/index.ts";

setDefaultTimeout(120_000);

const t = tempDir("isolate-ops-");
afterAll(() => t.remove());

const GENERATED = new Set(["ops_run.c", "ops_values.c"]);
const nativeSources = [...INIT_SOURCES, ...SHARED_SOURCES].filter((n) => !GENERATED.has(n));
/** The init's flags, at -O0 (this only links it). */
const FLAGS = [...STATIC_NO_LIBC.filter((f) => f !== "-s"), "-O0", `-I${join(ROOT, "native")}`];

/** native/'s objects of the init, compiled once against the real ops.h. */
const objects = join(t.path, "obj");
beforeAll(async () => {
  const gen = writeOpsSources(join(t.path, "real"));
  await sh(["mkdir", objects]);
  const cc = await sh([CC, ...FLAGS, `-I${gen}`, "-c", ...sourcePaths(nativeSources, gen)], { cwd: objects });
  if (cc.code !== 0) throw new Error(`cc: ${cc.stderr}`);
});

/** Generate the sources from ops, compile the dispatch tables, link them with native/'s objects. */
async function linkInit(name: string, ops: OpTable) {
  const gen = writeOpsSources(join(t.path, name), ops);
  const objs = readdirSync(objects).map((f) => join(objects, f));
  const tables = sourcePaths([...GENERATED], gen);
  return sh([CC, ...FLAGS, `-I${gen}`, "-o", join(gen, "init"), ...tables, ...objs], { cwd: gen });
}

describe("a build from the op table", () => {
  test("links with the table as it is", async () => {
    const r = await linkInit("as-is", OPS);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("fails for an op without its executor or value check in native/", async () => {
    const added: Record<string, OpDef> = {
      probeChecked: { code: 60, phase: "command", args: [["x", "u"]] },
      probeFree: { code: 59, phase: "sandbox", args: [], values: "none" },
    };
    const r = await linkInit("added", { ...OPS, ...added });
    expect(r.code).not.toBe(0);
    const missing = [...r.stderr.matchAll(/undefined reference to `(\w+)'/g)].map((m) => m[1]).sort();
    // Exactly what the new ops name: an op with values "none" shares values_none, which exists.
    expect(missing).toEqual(["op_probe_checked", "op_probe_free", "values_probe_checked"]);
  });
});

describe("the generated sources", () => {
  const src = opsSources();

  test("every op names its value check, and every op the init runs its executor", () => {
    for (const [name, def] of Object.entries(OPS) as [string, OpDef][]) {
      const macro = `OP_${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
      expect(src["ops.h"]).toContain(`#define ${macro} ${def.code}\n`);
      expect(src["ops_values.c"]).toContain(`[${macro}] = ${valuesFn(name, def)},`);
      const exec = execFn(name, def);
      if (exec) expect(src["ops_run.c"]).toContain(`[${macro}] = ${exec},`);
      else expect(src["ops_run.c"]).not.toContain(`[${macro}]`);
    }
    // Only clone is the shim's; only ops without args are declared free of constraints.
    const entries = Object.entries(OPS) as [string, OpDef][];
    expect(entries.filter(([n, d]) => execFn(n, d) === null).map(([n]) => n)).toEqual(["clone"]);
    for (const [, d] of entries) if (d.values === "none") expect(d.args).toEqual([]);
  });

  test("an unknown opcode has no entry: refused, not passed", () => {
    expect(src["ops_values.c"]).toContain("return check ? check(op) : PLAN_E_OPCODE;");
    expect(src["ops_run.c"]).toContain("return run ? run(op) : -ENOSYS;");
  });

  test("the C flags are the TypeScript ones, and native/ defines none of them itself", () => {
    const defined = new Map<string, number>();
    for (const m of src["ops.h"].matchAll(/^#define (\w+) (0x[0-9a-f]+)$/gm)) defined.set(m[1] ?? "", Number(m[2]));
    const names: string[] = [];
    for (const [set, values] of Object.entries(SHARED_FLAGS))
      for (const [name, value] of Object.entries(values as Record<string, number>)) {
        names.push(`${set}_${name}`);
        expect([`${set}_${name}`, defined.get(`${set}_${name}`)]).toEqual([`${set}_${name}`, value]);
      }
    expect(names).toContain("VIEW_RO");
    expect(names).toContain("VIEW_IDMAP");
    const dir = join(ROOT, "native");
    for (const f of readdirSync(dir).filter((n) => /\.[ch]$/.test(n))) {
      const text = readFileSync(join(dir, f), "utf8");
      for (const n of names) expect([f, n, text.includes(`#define ${n} `)]).toEqual([f, n, false]);
    }
  });

  test("a table C could not represent is refused", () => {
    const clash = { ...OPS, other: { code: OPS.exec.code, phase: "command", args: [] } } as OpTable;
    expect(() => opsSources(clash)).toThrow(/share opcode 63/);
    const big = { ...OPS, other: { code: 64, phase: "command", args: [] } } as OpTable;
    expect(() => opsSources(big)).toThrow(/not in 1\.\.63/);
  });
});
