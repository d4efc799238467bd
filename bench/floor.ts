/**
 * The floor of a one-shot run in this design (issue 13): a Bun program with
 * the same shim, init, plan and memfds as `isolate exec -- true`, and no
 * other logic. bench/run.ts computes the inputs with the library (the plan
 * and identity maps of the default sandbox, for this caller and this working
 * directory), writes them into a copy of this file, and compiles it as
 * dist/isolate is compiled. Running it does only what cannot be skipped:
 * load the shim, clone, write the id maps, make the idmapped binds, GO, read
 * the records, reap.
 */
import { loadShim } from "../src/shim/load.ts";

interface FloorInput {
  /** The encoded plan, base64. */
  readonly plan: string;
  /** [path after /proc/PID/, text] in write order. */
  readonly maps: readonly (readonly [string, string])[];
  /** Idmapped binds made for GO: [source, mount attrs, plain-bind rule]. */
  readonly idmap: readonly (readonly [string, number, "only" | "file"])[];
}

const INPUT: FloorInput = JSON.parse("__FLOOR_INPUT__");

async function main(): Promise<number> {
  const shim = loadShim();
  const child = shim.spawn(Uint8Array.fromBase64(INPUT.plan), [0, 1, 2], -1);
  if (typeof child === "number") throw new Error(`floor: clone failed: ${-child}`);
  const failed = shim.writeFiles(INPUT.maps.map(([p, text]) => [`/proc/${child.pid}/${p}`, text] as const));
  if (failed) throw new Error(`floor: write of ${INPUT.maps[failed.index]?.[0]} failed: ${-failed.rc}`);
  const fds: number[] = [];
  if (INPUT.idmap.length > 0) {
    const ns = shim.open(`/proc/${child.pid}/ns/user`, 0);
    for (const [src, attrs, plain] of INPUT.idmap) {
      const r = shim.idmapTree(src, ns, attrs, plain);
      if (typeof r !== "number") throw new Error(`floor: idmap of ${src} failed`);
      fds.push(r);
    }
    shim.close(ns);
  }
  shim.go(child.syncFd, fds);
  for (const fd of fds) shim.close(fd);
  shim.close(child.syncFd);
  for await (const _ of Bun.file(child.recordFd).stream()) {
    // The records themselves are not decoded: the exit status comes from the wait.
  }
  shim.close(child.recordFd);
  const w = shim.wait(child.pidfd, false);
  return w && w.code === 1 ? w.status : 1;
}

main().then((code) => {
  process.exitCode = code;
});
