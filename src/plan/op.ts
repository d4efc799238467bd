/** A plan op as TypeScript sees it: the opcode's name and its named args. */
import type { OPS, OpName } from "./ops.ts";

interface KindType {
  u: number | bigint;
  s: string;
  v: readonly string[];
  b: Uint8Array;
}

type Def<K extends OpName> = (typeof OPS)[K];

export type ArgsOf<K extends OpName> = {
  readonly [A in Def<K>["args"][number] as A[0]]: KindType[A[1]];
};

export type Op = { [K in OpName]: { readonly op: K; readonly args: ArgsOf<K> } }[OpName];

export function op<K extends OpName>(name: K, args: ArgsOf<K>): Op {
  return { op: name, args } as Op;
}
