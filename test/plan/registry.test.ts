/**
 * "A new facility is one folder": src/facilities/index.ts is the registry, and
 * the Spec's schema, the plan, the ops in words, `isolate check` and the
 * supervisor go through it. A test-only facility given through the seams
 * (the facilities parameters, SpawnHooks.facilities) with a field, an op-free
 * hook and a check is picked up by each without an edit elsewhere.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { normalize, type Spec, specSchema } from "../../src/config/schema.ts";
import type { Facility } from "../../src/facilities/facility.ts";
import { FACILITIES } from "../../src/facilities/index.ts";
import { checkHost } from "../../src/host/check.ts";
import { probeHost } from "../../src/host/probe.ts";
import { compilePlan } from "../../src/plan/compile.ts";
import { describers } from "../../src/plan/describe.ts";
import { OPS } from "../../src/plan/ops.ts";
import { resolveSandbox } from "../../src/plan/resolve.ts";
import { spawnSpec } from "../../src/supervisor/sandbox.ts";

setDefaultTimeout(30_000);

const DIR = join(import.meta.dir, "../../src/facilities");

test("every folder under src/facilities/ is one facility of the registry, by its name", () => {
  const folders = readdirSync(DIR)
    .filter((n) => statSync(join(DIR, n)).isDirectory())
    .sort();
  expect(FACILITIES.map((f) => f.name).sort()).toEqual(folders);
});

test("every op is described by exactly one facility", () => {
  const seen = new Map<string, string[]>();
  for (const f of FACILITIES)
    for (const op of Object.keys(f.describe ?? {})) seen.set(op, [...(seen.get(op) ?? []), f.name]);
  for (const op of Object.keys(OPS)) expect([op, seen.get(op)?.length]).toEqual([op, 1]);
  expect([...seen.keys()].sort()).toEqual(Object.keys(OPS).sort());
  expect(describers(FACILITIES).size).toBe(Object.keys(OPS).length);
});

/** A facility that is one object: a field, hooks that record what they saw, a check. */
function probe(seen: string[]): Facility {
  return {
    name: "probe",
    fields: {
      entries: { probeWord: v.optional(v.picklist(["hello", "bye"], "say hello or bye"), "hello") },
      normalize: (p) => ({ probeWord: p.probeWord }),
    },
    hooks: () => ({
      prepare(ctx) {
        seen.push(`prepare ${(ctx.spec as Spec & { probeWord: string }).probeWord}`);
      },
      started() {
        seen.push("started");
      },
      finish(_ctx, result) {
        seen.push("finish");
        return result;
      },
      cleanup() {
        seen.push("cleanup");
        return undefined;
      },
    }),
    check: () => [{ id: "probe.word", ok: true, required: false, value: "hello" }],
  };
}

test("a test-only facility: its field, its hooks and its check are picked up; the plan is unchanged", async () => {
  const seen: string[] = [];
  const facilities = [...FACILITIES, probe(seen)];
  const schema = specSchema(facilities);
  const bad = v.safeParse(schema, { command: ["true"], probeWord: "hi" });
  expect(bad.success).toBe(false);
  expect(bad.issues?.[0]?.message).toBe("say hello or bye");
  // The library's own schema does not know it.
  expect(v.safeParse(specSchema(FACILITIES), { command: ["true"], probeWord: "bye" }).success).toBe(false);
  const parsed = v.parse(schema, { command: ["true"], probeWord: "bye" });
  const spec = normalize(parsed, "ro", facilities) as Spec & { probeWord: string };
  expect(spec.probeWord).toBe("bye");

  const r = resolveSandbox(spec, probeHost());
  expect(compilePlan(r, [], null, facilities)).toEqual(compilePlan(r));

  const report = checkHost({ facilities });
  expect(report.items.find((i) => i.id === "probe.word")).toEqual({
    id: "probe.word",
    ok: true,
    required: false,
    value: "hello",
  });
  // Without it, the registry's checks only.
  expect(checkHost().items.some((i) => i.id === "probe.word")).toBe(false);

  const sb = spawnSpec(spec, { stdout: "pipe", stderr: "pipe" }, { facilities });
  await sb.ready;
  const result = await sb.exited;
  expect(result.exitCode).toBe(0);
  expect(seen).toEqual(["prepare bye", "started", "finish", "cleanup"]);
});
