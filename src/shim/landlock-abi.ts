/**
 * The kernel's Landlock ABI version, for the plan compiler. One system call
 * through libc, apart from the shim (src/shim/load.ts, the other bun:ffi
 * user): `isolate plan` creates and loads nothing, and this module carries
 * none of the embedded executables.
 */
import { dlopen, FFIType } from "bun:ffi";

const SYS_LANDLOCK_CREATE_RULESET = 444; // the same number on x86_64 and aarch64
const LANDLOCK_CREATE_RULESET_VERSION = 1;

let abi: number | undefined;

/** The ABI version; 0 when the kernel has no Landlock or it is not enabled. */
export function landlockAbi(): number {
  if (abi !== undefined) return abi;
  const libc = dlopen("libc.so.6", {
    syscall: { args: [FFIType.i64, FFIType.ptr, FFIType.u64, FFIType.u32], returns: FFIType.i64 },
  });
  try {
    const r = Number(libc.symbols.syscall(SYS_LANDLOCK_CREATE_RULESET, null, 0, LANDLOCK_CREATE_RULESET_VERSION));
    abi = Math.max(r, 0);
  } finally {
    libc.close();
  }
  return abi;
}
