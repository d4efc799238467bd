/** The small path helpers against node:path on the same inputs. */
import { expect, test } from "bun:test";
import * as np from "node:path";
import { basename, dirname, normalizeAbs, resolveAbs } from "../../src/host/paths.ts";

const cases = ["/", "/a", "/a/", "/a/b", "/a//b/", "/a/./b/../c", "/../x", "/a/b/..", "//a///b"];

test.each(cases)("%p: dirname, basename, normalize as node:path", (p) => {
  expect(dirname(p)).toBe(np.posix.dirname(p));
  expect(basename(p)).toBe(np.posix.basename(p));
  expect(normalizeAbs(p)).toBe(
    np.posix
      .normalize(p)
      .replace(/(.)\/$/, "$1")
      .replace(/^\/\/+/, "/"),
  );
});

test.each([
  ["/w", "x"],
  ["/w/v", "../x/./y"],
  ["/", "a/b"],
  ["/w", "/abs/../b"],
])("resolve %p + %p as node:path", (base, p) => {
  expect(resolveAbs(base, p)).toBe(np.posix.resolve(base, p));
});
