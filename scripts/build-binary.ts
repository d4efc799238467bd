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
/**
 * The flags dist/isolate is compiled with (bench/run.ts builds its peers with
 * them too). ESM with splitting: each command's modules are a chunk of their
 * own, so `--version` or `exec` loads only what it runs. The JIT starts 100
 * times more reluctant: a one-shot run executes its code once, and compiling
 * it costs more than interpreting it (the CLI returns to the normal policy
 * once a sandbox runs: src/cli/interactive.ts).
 */
export const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--splitting",
  "--compile-jit-policy=100",
  ...NO_AUTOLOAD,
];

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
