/** One error type names the Spec field; only the CLI names flags (src/errors.ts field()). */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../src/config/parse.ts";
import { field, IsolateError, SpecError } from "../../src/errors.ts";
import { isolate } from "../helpers/index.ts";

describe("errors name the Spec field in the library, the flag in the CLI", () => {
  test("a library SpecError carries the field and speaks it", () => {
    let e: unknown;
    try {
      parseSpec({ command: ["true"], limits: { memorySwap: "1G" } });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(SpecError);
    const err = e as SpecError;
    expect(err.field).toBe("limits.memorySwap");
    expect(err.message).toBe("limits.memorySwap: needs limits.memory (it is memory plus swap)");
    expect(err.message).not.toContain("--");
  });

  test("the same error through the CLI names the flags", async () => {
    const r = await isolate(["exec", "--memory-swap", "1G", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --memory-swap: needs --memory (it is memory plus swap)\n");
  });

  test("field() with a value: the library quotes it, a namer renders it its way", () => {
    const e = new IsolateError("host", `${field("userns", "host")} keeps host root`, { hint: `drop ${field("user")}` });
    expect(e.message).toBe('userns: "host" keeps host root');
    expect(e.hint).toBe("drop user");
    expect(e.field).toBe("userns");
    expect(e.text((p, v) => (v === undefined ? `--${p}` : `--${p} ${v}`))).toBe(
      "--userns host keeps host root (drop --user)",
    );
  });
});
