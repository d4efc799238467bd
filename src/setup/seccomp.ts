/** The command's seccomp filter: compiled here, installed last before execve. */
import { DEFAULT_SECCOMP_BASE64 } from "../../build/seccomp-default.ts";
import { type Op, op } from "../plan/op.ts";
import { compileSeccomp, isPlainDefault } from "../seccomp/compile.ts";
import type { Spec } from "../spec/schema.ts";

let defaultFilter: Uint8Array | undefined;

export function seccompOps(spec: Spec): Op[] {
  if (isPlainDefault(spec.seccomp)) {
    defaultFilter ??= Uint8Array.fromBase64(DEFAULT_SECCOMP_BASE64);
    return [op("seccomp", { filter: defaultFilter })];
  }
  const filter = compileSeccomp(spec.seccomp);
  return filter ? [op("seccomp", { filter })] : [];
}
