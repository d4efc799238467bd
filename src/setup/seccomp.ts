/** The command's seccomp filter: compiled here, installed last before execve. */
import { type Op, op } from "../plan/op.ts";
import { compileSeccomp } from "../seccomp/compile.ts";
import type { Spec } from "../spec/schema.ts";

export function seccompOps(spec: Spec): Op[] {
  const filter = compileSeccomp(spec.seccomp);
  return filter ? [op("seccomp", { filter })] : [];
}
