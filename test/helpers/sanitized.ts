/** The C side built with ASan+UBSan (every finding fatal) for the test/native harnesses. */
import { join } from "node:path";
import { SHARED_SOURCES } from "../../scripts/build-native.ts";
import { ROOT, sh } from "./index.ts";

/** Build `out` from the harness `test/native/NAME.c`, the given native/ sources and the shared ones. */
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
    `-I${join(ROOT, "native")}`,
    "-o",
    out,
    join(ROOT, "test/native", harness),
    ...[...sources, ...SHARED_SOURCES].map((f) => join(ROOT, "native", f)),
  ]);
}
