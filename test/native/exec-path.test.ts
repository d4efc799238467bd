/**
 * The PATH search of native/op_exec.c under ASan+UBSan: an empty PATH entry means
 * ".", which takes a byte of the path buffer too. An argv[0] that fills the
 * buffer must be skipped for that entry, never written one byte past it.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { sh, tempDir } from "../helpers/index.ts";
import { buildSanitized } from "../helpers/sanitized.ts";

// A sanitizer build: slow on a busy machine.
setDefaultTimeout(60_000);

const t = tempDir();
afterAll(() => t.remove());

test("an empty PATH entry with a 4094-byte argv[0] stays inside the path buffer", async () => {
  const bin = join(t.path, "exec_path");
  const cc = await buildSanitized(bin, "exec_path.c", ["op_exec.c"]);
  expect(cc.stderr).toBe("");
  expect(cc.code).toBe(0);
  // Lengths around the edge, the empty entry first, last, and in the middle.
  for (const path of [":/bin", "/bin:", "/bin::/usr/bin", ""]) {
    for (const len of [4092, 4093, 4094, 4095]) {
      const r = await sh([bin, path, String(len)]);
      expect({ path, len, stderr: r.stderr, code: r.code }).toEqual({ path, len, stderr: "", code: 0 });
      // Nothing by that name exists: not found, or a name too long (ENAMETOOLONG) where it fits.
      expect(r.stdout).toMatch(/^rc -(2|36)\n$/);
    }
  }
});
