/** Bytes are bytes, through the library: Uint8Array or surrogate-escaped strings reach the command as bytes. */
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { run } from "../../src/index.ts";
import { tempDir } from "../helpers/index.ts";

const show = 'printf "%s|%s" "$1" "$K" | od -An -tx1';
const hex = (s: string) => s.trim().split(/\s+/).join(" ");

test("command arguments and env values given as Uint8Array arrive byte for byte", async () => {
  const r = await run({
    command: ["sh", "-c", show, "x", Uint8Array.of(0xff, 0xfe)],
    env: [{ name: "K", value: Uint8Array.of(0x63, 0xe9) }],
  });
  expect(r.stderr).toBe("");
  expect(hex(r.stdout)).toBe("ff fe 7c 63 e9");
});

test("strings with escaped bytes (U+DC80..U+DCFF) are those bytes, also in paths", async () => {
  const t = tempDir("isolate-bytes-lib-");
  try {
    const dir = Buffer.concat([Buffer.from(`${t.path}/caf`), Buffer.from([0xe9])]);
    mkdirSync(dir);
    writeFileSync(Buffer.concat([dir, Buffer.from("/f")]), "in latin1\n");
    const escaped = `${t.path}/caf\uDCE9`;
    const r = await run({
      command: ["sh", "-c", `${show}; cat /mnt/f; cd "$2" && cat f`, "x", "\uDCFF\uDCFE", escaped],
      env: [{ name: "K", value: "c\uDCE9" }],
      mounts: [{ type: "ro-bind", src: escaped, dst: "/mnt" }],
    });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(hex(lines[0] ?? "")).toBe("ff fe 7c 63 e9");
    expect(lines.slice(1)).toEqual(["in latin1", "in latin1"]);
  } finally {
    t.remove();
  }
});

test("a value that is neither a string nor bytes is refused", () => {
  expect(() => run({ command: ["true", 5 as unknown as string] })).toThrow("must be a string or a Uint8Array");
});
