/** Op[] -> the bytes native/plan.c decodes (layout in native/plan.h). */
import { osBytes } from "../host/bytes.ts";
import type { Op } from "./op.ts";
import { OPS, type OpDef } from "./ops.ts";

const MAGIC = 0x504f5349;
const VERSION = 1;

class Writer {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** An OS string (src/host/bytes.ts): escaped bytes go out as the bytes they stand for. */
  str(s: string): void {
    const b = osBytes(s);
    this.u32(b.length);
    this.bytes(b);
    this.bytes(new Uint8Array([0]));
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * The plan as the bytes the C init reads (native/plan.c decodes and checks them).
 *
 * @example
 * const bytes = encodePlan(compilePlan(parseSpec({ command: ["true"] }), probeHost()));
 */
export function encodePlan(ops: readonly Op[]): Uint8Array {
  const w = new Writer();
  w.u32(MAGIC);
  w.u16(VERSION);
  w.u16(0);
  w.u32(0); // total length, patched below
  w.u32(ops.length);
  for (const o of ops) {
    const def = OPS[o.op];
    const start = w.length;
    w.u16(def.code);
    w.u16(0);
    w.u32(0); // op length, patched below
    const args = o.args as Record<string, unknown>;
    for (const [name, kind] of def.args as OpDef["args"]) {
      const value = args[name];
      switch (kind) {
        case "u":
          w.u64(value as number | bigint);
          break;
        case "s":
          w.str(value as string);
          break;
        case "v": {
          const list = value as readonly string[];
          w.u32(list.length);
          for (const s of list) w.str(s);
          break;
        }
        case "b": {
          const b = value as Uint8Array;
          w.u32(b.length);
          w.bytes(b);
          break;
        }
      }
    }
    w.setU32(start + 4, w.length - start);
  }
  w.setU32(8, w.length);
  return w.done();
}
