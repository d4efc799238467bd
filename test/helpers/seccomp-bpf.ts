/**
 * A small classic-BPF interpreter, seccomp's dialect only, for the filter
 * unit tests: it runs a program on a struct seccomp_data and returns the
 * 32-bit return value. It refuses what the kernel's checker would (unknown
 * opcodes, out-of-range loads, jumps off the end, no return).
 */
import { BPF, decodeProgram, type Insn, RET, RET_ACTION_FULL, RET_DATA } from "../../src/facilities/seccomp/bpf.ts";

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: readonly (number | bigint)[];
}

function dataBytes(d: SeccompData): DataView {
  const buf = new DataView(new ArrayBuffer(64));
  buf.setInt32(0, d.nr, true);
  buf.setUint32(4, d.arch >>> 0, true);
  buf.setBigUint64(8, d.ip ?? 0n, true);
  for (let i = 0; i < 6; i++) buf.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  return buf;
}

export function runFilter(program: Uint8Array | readonly Insn[], d: SeccompData): number {
  const insns = program instanceof Uint8Array ? decodeProgram(program) : program;
  const data = dataBytes(d);
  let a = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const i = insns[pc] as Insn;
    switch (i.code) {
      case BPF.LD | BPF.W | BPF.ABS:
        if (i.k % 4 !== 0 || i.k + 4 > 64) throw new Error(`bpf: bad load offset ${i.k} at ${pc}`);
        a = data.getUint32(i.k, true);
        break;
      case BPF.ALU | BPF.AND | BPF.K:
        a = (a & i.k) >>> 0;
        break;
      case BPF.JMP | BPF.JA:
        pc += i.k;
        break;
      case BPF.JMP | BPF.JEQ | BPF.K:
        pc += a === i.k ? i.jt : i.jf;
        break;
      case BPF.JMP | BPF.JGT | BPF.K:
        pc += a > i.k ? i.jt : i.jf;
        break;
      case BPF.JMP | BPF.JGE | BPF.K:
        pc += a >= i.k ? i.jt : i.jf;
        break;
      case BPF.JMP | BPF.JSET | BPF.K:
        pc += (a & i.k) !== 0 ? i.jt : i.jf;
        break;
      case BPF.RET | BPF.K:
        return i.k >>> 0;
      default:
        throw new Error(`bpf: opcode 0x${i.code.toString(16)} at ${pc} is not handled`);
    }
    if (pc + 1 > insns.length) throw new Error(`bpf: jump past the end at ${pc}`);
  }
  throw new Error("bpf: fell off the end without returning");
}

export type Verdict = "allow" | "kill" | "log" | { errno: number } | "other";

export function verdict(ret: number): Verdict {
  const action = (ret & RET_ACTION_FULL) >>> 0;
  if (action === RET.ALLOW) return "allow";
  if (action === RET.KILL_PROCESS) return "kill";
  if (action === RET.LOG) return "log";
  if (action === RET.ERRNO) return { errno: ret & RET_DATA };
  return "other";
}
