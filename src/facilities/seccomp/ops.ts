/** The command's seccomp filter: compiled here, installed last before execve. */
import { DEFAULT_SECCOMP_BASE64 } from "../../../build/seccomp-default.ts";
import type { Spec } from "../../config/schema.ts";
import { type Op, op } from "../../plan/op.ts";
import { capNumber } from "../privileges/capabilities.ts";
import { compileSeccomp, isPlainDefault } from "./compile.ts";
import type { GuardOptions } from "./nosuid.ts";

let defaultFilter: Uint8Array | undefined;

const CAP_SETFCAP = capNumber("CAP_SETFCAP");

/** With CAP_SETFCAP kept, security.capability could be written: the guard refuses every xattr write. */
export function guardOptions(spec: Spec): GuardOptions {
  const setfcap = spec.capAdd === "all" || (CAP_SETFCAP !== undefined && spec.capAdd.includes(CAP_SETFCAP));
  return { xattrWrites: setfcap };
}

export function seccompOps(spec: Spec): Op[] {
  const guard = guardOptions(spec);
  if (isPlainDefault(spec.seccomp) && !guard.xattrWrites) {
    defaultFilter ??= Uint8Array.fromBase64(DEFAULT_SECCOMP_BASE64);
    return [op("seccomp", { filter: defaultFilter })];
  }
  const filter = compileSeccomp(spec.seccomp, guard);
  return filter ? [op("seccomp", { filter })] : [];
}
