/** The C side built with ASan+UBSan (every finding fatal) for the test/ffi harnesses. */
import { join } from "node:path";
import { SHARED_SOURCES } from "../../scripts/build-ffi.ts";
import { ROOT, sh } from "../helpers.ts";

/** Build `out` from the harness `test/ffi/NAME.c`, the given ffi/ sources and the shared ones. */
export function buildSanitized(out: string, harness: string, sources: readonly string[] = []) {
  return sh([
    "gcc",
    "-O1",
    "-g",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-Wall",
    "-Wextra",
    "-Werror",
    `-I${join(ROOT, "build")}`,
    `-I${join(ROOT, "ffi")}`,
    "-o",
    out,
    join(ROOT, "test/ffi", harness),
    ...[...sources, ...SHARED_SOURCES].map((f) => join(ROOT, "ffi", f)),
  ]);
}
