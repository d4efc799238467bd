/** The privileges' ops in words. */
import type { Op } from "../../plan/op.ts";
import { capList } from "./capabilities.ts";

/** A gid list as the ops carry it (u32s, little-endian). */
export function gidList(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i += 4) out.push(v.getUint32(i, true));
  return out.length ? out.join(", ") : "none";
}

export function describeInitCaps(o: Extract<Op, { op: "initCaps" }>): string {
  return `the init keeps capabilities: ${capList(o.args.keep)}${
    Number(o.args.flags) & 1 ? `, takes uid ${o.args.uid}, gid ${o.args.gid}` : ""
  }${Number(o.args.flags) & 2 ? `, groups ${gidList(o.args.gids)}` : ""}`;
}
