/**
 * Classic BPF as seccomp runs it: the instruction encoding, the return
 * values, and a tiny assembler with forward labels. The kernel's checker has
 * the last word; this only refuses what it can see is wrong (jumps too long,
 * too many instructions).
 */
import { IsolateError } from "../../errors.ts";

/** One instruction: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }. */
export interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Opcode parts (linux/bpf_common.h).
export const BPF = {
  LD: 0x00,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  W: 0x00,
  ABS: 0x20,
  K: 0x00,
  AND: 0x50,
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
} as const;

/** Return values (linux/seccomp.h): the action in the high bits, data in the low 16. */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const RET_ACTION_FULL = 0xffff0000;
export const RET_DATA = 0x0000ffff;

/** Offsets into struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; } (little-endian). */
export const DATA = {
  nr: 0,
  arch: 4,
  ip: 8,
  /** Low 32 bits of argument i. */
  argLow: (i: number) => 16 + 8 * i,
  /** High 32 bits of argument i. */
  argHigh: (i: number) => 20 + 8 * i,
} as const;

/** BPF_MAXINSNS. */
export const MAX_INSNS = 4096;

export const retErrno = (errno: number) => (RET.ERRNO | (errno & RET_DATA)) >>> 0;

type Target = string | number;

interface Pending {
  readonly code: number;
  readonly k: number;
  readonly jt: Target;
  readonly jf: Target;
}

/**
 * Builds a program. Jump targets are labels (resolved at the end, forward
 * only, as BPF requires) or a relative count. `next` = 0 = fall through.
 */
export class Assembler {
  private readonly insns: Pending[] = [];
  private readonly labels = new Map<string, number>();

  get length(): number {
    return this.insns.length;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new IsolateError("internal", `bpf: label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  /** A = 32-bit word at offset `off` of seccomp_data. */
  load(off: number): this {
    return this.push(BPF.LD | BPF.W | BPF.ABS, off, 0, 0);
  }

  and(k: number): this {
    return this.push(BPF.ALU | BPF.AND | BPF.K, k, 0, 0);
  }

  /** if (A == k) goto jt else goto jf */
  jeq(k: number, jt: Target, jf: Target = 0): this {
    return this.push(BPF.JMP | BPF.JEQ | BPF.K, k, jt, jf);
  }

  jgt(k: number, jt: Target, jf: Target = 0): this {
    return this.push(BPF.JMP | BPF.JGT | BPF.K, k, jt, jf);
  }

  jge(k: number, jt: Target, jf: Target = 0): this {
    return this.push(BPF.JMP | BPF.JGE | BPF.K, k, jt, jf);
  }

  /** if (A & k) goto jt else goto jf */
  jset(k: number, jt: Target, jf: Target = 0): this {
    return this.push(BPF.JMP | BPF.JSET | BPF.K, k, jt, jf);
  }

  ret(k: number): this {
    return this.push(BPF.RET | BPF.K, k, 0, 0);
  }

  private push(code: number, k: number, jt: Target, jf: Target): this {
    if (!Number.isInteger(k) || k < 0 || k > 0xffffffff)
      throw new IsolateError("internal", `bpf: constant ${k} is not a u32`);
    this.insns.push({ code, k, jt, jf });
    return this;
  }

  assemble(): Insn[] {
    if (this.insns.length > MAX_INSNS)
      throw new IsolateError("internal", `bpf: ${this.insns.length} instructions (max ${MAX_INSNS})`);
    return this.insns.map((p, at) => {
      const off = (t: Target): number => {
        if (typeof t === "number") return t;
        const to = this.labels.get(t);
        if (to === undefined) throw new IsolateError("internal", `bpf: undefined label ${t}`);
        const d = to - at - 1;
        if (d < 0) throw new IsolateError("internal", `bpf: label ${t} is behind instruction ${at}`);
        return d;
      };
      const jt = off(p.jt);
      const jf = off(p.jf);
      if (jt > 255 || jf > 255)
        throw new IsolateError("internal", `bpf: jump from ${at} too long (${Math.max(jt, jf)})`);
      if (at + 1 + Math.max(jt, jf) > this.insns.length)
        throw new IsolateError("internal", `bpf: jump from ${at} leaves the program`);
      return { code: p.code, jt, jf, k: p.k };
    });
  }
}

/** The bytes the kernel takes: 8 per instruction, little-endian. */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const v = new DataView(out.buffer);
  insns.forEach((i, n) => {
    v.setUint16(n * 8, i.code, true);
    v.setUint8(n * 8 + 2, i.jt);
    v.setUint8(n * 8 + 3, i.jf);
    v.setUint32(n * 8 + 4, i.k, true);
  });
  return out;
}

export function decodeProgram(bytes: Uint8Array): Insn[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let off = 0; off + 8 <= bytes.length; off += 8) {
    out.push({
      code: v.getUint16(off, true),
      jt: v.getUint8(off + 2),
      jf: v.getUint8(off + 3),
      k: v.getUint32(off + 4, true),
    });
  }
  return out;
}
