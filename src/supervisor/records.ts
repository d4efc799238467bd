/** The records the init and the command send over the record pipe (native/record.h). */

export const RECORD_SIZE = 64;

export type SandboxRecord =
  | { readonly type: "error"; readonly index: number; readonly opcode: number; readonly errno: number }
  | { readonly type: "started"; readonly pid: number }
  | {
      readonly type: "exit";
      readonly status: number;
      /** Summed over every process the init reaped (the command and its orphans). */
      readonly userUs: number;
      readonly sysUs: number;
      /** The largest of those processes' peak RSS. */
      readonly maxRssKiB: number;
      /** The limits the init enforced that ended the command. */
      readonly fired: { readonly timeout: boolean; readonly cpuTime: boolean };
      /** A signal from the supervisor, or SIG_END, reached the init while the command still ran. */
      readonly asked: boolean;
      /** Wall time from the clone to the command's end, measured by the init. */
      readonly wallUs: number;
    };

export function decodeRecords(bytes: Uint8Array): SandboxRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SandboxRecord[] = [];
  for (let off = 0; off + RECORD_SIZE <= bytes.length; off += RECORD_SIZE) {
    const type = view.getUint32(off, true);
    const index = view.getInt32(off + 4, true);
    const opcode = view.getInt32(off + 8, true);
    const errno = view.getInt32(off + 12, true);
    const status = view.getInt32(off + 16, true);
    const pid = view.getInt32(off + 20, true);
    if (type === 1) out.push({ type: "error", index, opcode, errno });
    else if (type === 2) out.push({ type: "started", pid });
    else if (type === 3) {
      const fired = view.getUint32(off + 48, true);
      out.push({
        type: "exit",
        status,
        userUs: Number(view.getBigUint64(off + 24, true)),
        sysUs: Number(view.getBigUint64(off + 32, true)),
        maxRssKiB: Number(view.getBigUint64(off + 40, true)),
        fired: { timeout: (fired & 1) !== 0, cpuTime: (fired & 2) !== 0 },
        asked: view.getUint32(off + 52, true) !== 0,
        wallUs: Number(view.getBigUint64(off + 56, true)),
      });
    }
  }
  return out;
}
