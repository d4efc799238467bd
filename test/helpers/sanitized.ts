/** The C side built with ASan+UBSan (every finding fatal) for the test/native harnesses. */
import { dirname, join } from "node:path";
import { SHARED_SOURCES, sourcePaths } from "../../scripts/build-native.ts";
import { writeOpsSources } from "../../scripts/gen-ops.ts";
import { ROOT, sh } from "./index.ts";

/**
 * Build `out` from the harness `test/native/NAME.c`, the given native/ sources
 * and the shared ones, with the generated ones (scripts/gen-ops.ts) written
 * next to out: it needs no build/.
 */
export function buildSanitized(out: string, harness: string, sources: readonly string[] = []) {
  const gen = writeOpsSources(join(dirname(out), "gen"));
  return sh([
    "gcc",
    "-O1",
    "-g",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-Wall",
    "-Wextra",
    "-Werror",
    `-I${gen}`,
    `-I${join(ROOT, "native")}`,
    "-o",
    out,
    join(ROOT, "test/native", harness),
    ...sourcePaths([...sources, ...SHARED_SOURCES], gen),
  ]);
}
