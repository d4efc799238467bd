/**
 * npm run build: the C side (build-native.ts), then one self-contained
 * executable, dist/isolate, with the shim and the init embedded.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildFfi } from "./build-native.ts";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "isolate");

/**
 * A compiled Bun executable reads bunfig.toml (preloads: code) and .env from
 * its working directory unless told not to; isolate's working directory is
 * often one a sandbox could write. Every runtime autoload is off.
 */
export const NO_AUTOLOAD = [
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-tsconfig",
  "--no-compile-autoload-package-json",
];
/** The flags dist/isolate is compiled with (bench/run.ts builds its hello-world peer with them too). */
export const COMPILE_FLAGS = ["--compile", "--minify", "--bytecode", ...NO_AUTOLOAD];

if (import.meta.main) {
  buildFfi();
  mkdirSync(join(root, "dist"), { recursive: true });
  const r = Bun.spawnSync([process.execPath, "build", ...COMPILE_FLAGS, "src/cli/main.ts", "--outfile", outfile], {
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) {
    console.error("build-binary: bun build --compile failed");
    process.exit(1);
  }
  console.log(`built ${outfile}`);
}
