/**
 * The C plan decoder: it refuses malformed plans with the right reason (through
 * the shim, as spawn uses it), and a sanitizer build survives fuzzed plans.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compilePlan, encodePlan, parseSpec, probeHost, resolveSandbox } from "../../src/index.ts";
import { loadShim } from "../../src/shim/load.ts";
import { sh, tempDir } from "../helpers/index.ts";
import { buildSanitized } from "../helpers/sanitized.ts";

const shim = loadShim();
const valid = (extra: Record<string, unknown> = {}) =>
  encodePlan(
    compilePlan(resolveSandbox(parseSpec({ command: ["echo", "a", "b"], hostname: "h", ...extra }), probeHost())),
  );

const PLAN_E = { SHORT: -1, MAGIC: -2, LENGTH: -3, OPCODE: -4, OPLEN: -5, STRING: -6, ORDER: -7, COUNT: -8, VALUE: -9 };

function patched(plan: Uint8Array, at: number, bytes: number[]): Uint8Array {
  const copy = plan.slice();
  copy.set(bytes, at);
  return copy;
}
const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

describe("the decoder refuses", () => {
  const plan = valid();
  const firstOp = 16;

  test("a valid plan passes", () => {
    expect(shim.planCheck(plan)).toEqual({ code: 0, where: expect.any(Number) });
  });
  test("a short buffer", () => expect(shim.planCheck(plan.subarray(0, 10)).code).toBe(PLAN_E.SHORT));
  test("a wrong magic", () => expect(shim.planCheck(patched(plan, 0, [0])).code).toBe(PLAN_E.MAGIC));
  test("a length that is not the buffer's", () => {
    expect(shim.planCheck(patched(plan, 8, u32(plan.length + 1))).code).toBe(PLAN_E.LENGTH);
    expect(shim.planCheck(plan.subarray(0, plan.length - 1)).code).toBe(PLAN_E.LENGTH);
  });
  test("an unknown opcode, at its offset", () => {
    expect(shim.planCheck(patched(plan, firstOp, [0x40, 0]))).toEqual({ code: PLAN_E.OPCODE, where: firstOp });
  });
  test("an op length past the end", () => {
    expect(shim.planCheck(patched(plan, firstOp + 4, u32(0xffff))).code).toBe(PLAN_E.OPLEN);
  });
  test("an op count that does not match", () => {
    expect(shim.planCheck(patched(plan, 12, u32(99))).code).toBe(PLAN_E.COUNT);
  });
  test("a string without its NUL, or with one inside", () => {
    const text = new TextEncoder().encode("echo");
    const at = plan.findIndex((_, i) => text.every((b, k) => plan[i + k] === b));
    expect(at).toBeGreaterThan(0);
    expect(shim.planCheck(patched(plan, at + 1, [0])).code).toBe(PLAN_E.STRING);
    expect(shim.planCheck(patched(plan, at + 4, [0x41])).code).toBe(PLAN_E.STRING);
  });
  test("ops out of phase order, and clone not first", () => {
    const ops = compilePlan(resolveSandbox(parseSpec({ command: ["true"] }), probeHost()));
    const moved = [...ops.slice(0, 1), ops.at(-2), ...ops.slice(1, -2), ops.at(-1)].filter((o) => o !== undefined);
    expect(shim.planCheck(encodePlan(moved)).code).toBe(PLAN_E.ORDER);
    expect(
      shim.planCheck(encodePlan([...ops.slice(1, 2), ops[0], ...ops.slice(2)].filter((o) => o !== undefined))).code,
    ).toBe(PLAN_E.ORDER);
  });
  test("a value out of range (clone flags that are not namespaces)", () => {
    const ops = compilePlan(resolveSandbox(parseSpec({ command: ["true"] }), probeHost()));
    const bad = [{ op: "clone", args: { flags: 0x100 /* CLONE_VM */ } }, ...ops.slice(1)] as typeof ops;
    expect(shim.planCheck(encodePlan(bad)).code).toBe(PLAN_E.VALUE);
  });
  test("spawn refuses what the check refuses, before creating anything", () => {
    const r = shim.spawn(patched(plan, firstOp, [0x40, 0]), [0, 1, 2], -1);
    expect(r).toBe(-22);
  });
});

describe("sanitizer build", () => {
  const t = tempDir();
  afterAll(() => t.remove());

  test("ASan+UBSan decoder survives 20000 mutated plans per seed plan", async () => {
    const bin = join(t.path, "plan_fuzz");
    const cc = await buildSanitized(bin, "plan_fuzz.c");
    expect(cc.stderr).toBe("");
    expect(cc.code).toBe(0);
    const seeds = [
      valid(),
      valid({ env: [{ name: "A", value: "x".repeat(300) }], share: ["net"] }),
      valid({ unshare: ["time"] }),
    ];
    const files = seeds.map((p, i) => {
      const f = join(t.path, `seed${i}.plan`);
      writeFileSync(f, p);
      return f;
    });
    const r = await sh([bin, "20000", String(Date.now()), ...files], { timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^ok 60000 \d+\n$/);
    expect(r.code).toBe(0);
  }, 60_000); // the sanitizer build alone can take 5 s on a busy machine
});
