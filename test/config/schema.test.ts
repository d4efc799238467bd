/** Spec validation and the size/duration spellings: pure, no kernel. */
import { describe, expect, test } from "bun:test";
import { parseDuration, parseSize } from "../../src/config/units.ts";
import { parseSpec, SpecError } from "../../src/index.ts";

describe("durations", () => {
  test.each([
    ["500ms", 500],
    ["10s", 10_000],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["30", 30_000],
    ["0", 0],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));
  test.each(["", "-1", "12abc", "1e9", "0x10", " 1s", "1 s", "s", "1.s", "99999999999999999999h"])(
    "%p is refused",
    (t) => expect(typeof parseDuration(t)).toBe("string"),
  );
});

describe("sizes", () => {
  test.each([
    ["512M", 512 * 2 ** 20],
    ["1.5G", 1.5 * 2 ** 30],
    ["64m", 64 * 2 ** 20],
    ["4096", 4096],
    ["1k", 1024],
    ["2MiB", 2 * 2 ** 20],
    ["3gb", 3 * 2 ** 30],
  ])("%s is %d bytes", (text, n) => expect(parseSize(text)).toBe(n));
  test.each(["", "-1", "12abc", "1e9", "M", "1.5.5G", "18446744073709551616", "99999T", "1 M", "ib"])(
    "%p is refused",
    (t) => expect(typeof parseSize(t)).toBe("string"),
  );
});

describe("spec", () => {
  const bad = (input: unknown, message: RegExp) => {
    expect(() => parseSpec(input)).toThrow(SpecError);
    expect(() => parseSpec(input)).toThrow(message);
  };

  test("defaults: new pid, mount, uts, ipc, net, cgroup; user automatic; 10 s grace", () => {
    const s = parseSpec({ command: ["true"] });
    expect(s.namespaces).toEqual({
      pid: true,
      mount: true,
      uts: true,
      ipc: true,
      net: true,
      cgroup: true,
      user: "auto",
      time: false,
    });
    expect(s.killAfterMs).toBe(10_000);
    expect(s.inheritEnv).toBe(false);
  });

  test("share and unshare adjust the set", () => {
    const s = parseSpec({ command: ["true"], share: ["net", "ipc"], unshare: ["time", "user"] });
    expect(s.namespaces).toMatchObject({ net: false, ipc: false, time: true, user: true, pid: true });
  });

  test("refusals name the field", () => {
    bad({ command: [] }, /command: no command given/);
    bad({ command: [""] }, /command name is empty/);
    bad({ command: ["a\0b"] }, /NUL/);
    bad({ command: ["true"], share: ["nope"] }, /share "nope": unknown namespace/);
    bad({ command: ["true"], hostname: "x".repeat(65) }, /hostname.*longer than 64/);
    bad({ command: ["true"], hostname: "a_b" }, /hostname "a_b"/);
    bad({ command: ["true"], hostname: "h", share: ["uts"] }, /needs a new uts namespace/);
    bad({ command: ["true"], env: [{ name: "A=B", value: "1" }] }, /env/);
    bad({ command: ["true"], cwd: "relative" }, /cwd "relative": must be an absolute path/);
    bad({ command: ["true"], killAfter: "12abc" }, /killAfter "12abc": "12abc" is not a duration/);
    bad({ command: ["true"], killAfter: -5 }, /must not be negative/);
    bad({ command: ["true"], bogus: 1 }, /bogus|Invalid key/);
  });

  test("the CLI names its flags instead of fields", () => {
    expect(() =>
      parseSpec({ command: ["true"], killAfter: "x" }, (f) => (f === "killAfter" ? "--kill-after" : f)),
    ).toThrow(/^--kill-after "x"/);
  });
});
