/**
 * npm run build: the C side (build-ffi.ts), then one self-contained
 * executable, dist/isolate, with the shim and the init embedded.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildFfi } from "./build-ffi.ts";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "isolate");

buildFfi();
mkdirSync(join(root, "dist"), { recursive: true });
const r = Bun.spawnSync(
  [process.execPath, "build", "--compile", "--minify", "--bytecode", "src/cli/main.ts", "--outfile", outfile],
  { cwd: root, stdout: "inherit", stderr: "inherit" },
);
if (r.exitCode !== 0) {
  console.error("build-binary: bun build --compile failed");
  process.exit(1);
}
console.log(`built ${outfile}`);
