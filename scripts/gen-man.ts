/**
 * bun scripts/gen-man.ts: write docs/isolate.1 from the command and flag
 * tables (the text `isolate man` prints). test/cli/cli-man.test.ts fails when
 * the file is stale: run this after changing a flag.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderMan } from "../src/cli/commands/man.ts";

const out = join(import.meta.dir, "..", "docs", "isolate.1");
writeFileSync(out, await renderMan());
console.log(`wrote ${out}`);
