/** The namespaces' ops in words. */
import type { Namespace } from "./fields.ts";
import { CLONE_FLAG } from "./ops.ts";

/** The namespaces of CLONE_NEW* flags, in CLONE_FLAG's order. */
export function nsList(flags: number | bigint): string {
  const f = Number(flags);
  const names = (Object.keys(CLONE_FLAG) as Namespace[]).filter((ns) => f & CLONE_FLAG[ns]);
  return names.length ? names.join(", ") : "none";
}
