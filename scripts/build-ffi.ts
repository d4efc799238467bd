/**
 * Builds the C side with the system compiler:
 *   build/libisolate.so      the shim Bun loads (spawn, wait, signal, memfd)
 *   build/isolate-init.elf   the sandbox's pid 1, static, no libc
 * Both are embedded into dist/isolate by build-binary.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { opsHeader } from "./gen-ops-h.ts";

const root = join(import.meta.dir, "..");
const ffi = join(root, "ffi");
const out = join(root, "build");

export const WARN = ["-Wall", "-Wextra", "-Werror"];
const CC = process.env.CC ?? "cc";

export const SHARED_SOURCES = ["plan.c", "values.c", "view_values.c"];
const INIT_SOURCES = [
  "init.c",
  "rt.c",
  "op_ns.c",
  "op_net.c",
  "op_process.c",
  "op_exec.c",
  "op_mount.c",
  "op_path.c",
  ...SHARED_SOURCES,
];

function run(argv: string[]): void {
  const r = Bun.spawnSync(argv, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    console.error(`build-ffi: failed: ${argv.join(" ")}`);
    process.exit(1);
  }
}

export function buildFfi(): { shim: string; init: string } {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "ops.h"), opsHeader());
  const shim = join(out, "libisolate.so");
  const init = join(out, "isolate-init.elf");
  const src = (names: string[]) => names.map((n) => join(ffi, n));
  run([
    CC,
    "-O2",
    "-g0",
    "-fPIC",
    "-shared",
    "-fvisibility=hidden",
    ...WARN,
    `-I${out}`,
    "-o",
    shim,
    ...src(["shim.c", ...SHARED_SOURCES]),
  ]);
  run([
    CC,
    "-O2",
    "-static",
    "-nostdlib",
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fno-pie",
    "-no-pie",
    "-Wl,--build-id=none",
    "-s",
    ...WARN,
    `-I${out}`,
    "-o",
    init,
    ...src(INIT_SOURCES),
  ]);
  return { shim, init };
}

if (import.meta.main) {
  const { shim, init } = buildFfi();
  console.log(`built ${shim}\nbuilt ${init}`);
}
