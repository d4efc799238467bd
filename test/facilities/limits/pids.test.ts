/** --pids: a fork bomb is contained, the host stays responsive, and threads count too. */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../../src/index.ts";
import { sh, tempDir } from "../../helpers/index.ts";
import { SLOW, withCgroups } from "../../helpers/limits.ts";

const THREADS_C = `#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *idle(void *a) { (void)a; pause(); return 0; }
int main(void) {
  int n = 0;
  pthread_t t;
  while (n < 1000 && pthread_create(&t, 0, idle, 0) == 0) n++;
  printf("%d\\n", n);
  return 0;
}
`;

let dir: { path: string; remove: () => void };
let threads = "";

beforeAll(async () => {
  dir = tempDir("isolate-pids-");
  writeFileSync(join(dir.path, "threads.c"), THREADS_C);
  threads = join(dir.path, "threads");
  const cc = await sh(["cc", "-O1", "-pthread", "-o", threads, join(dir.path, "threads.c")]);
  if (cc.code !== 0) throw new Error(`cc failed: ${cc.stderr}`);
});
afterAll(() => dir.remove());

describe("--pids 64", () => {
  withCgroups(
    "a fork bomb is contained: pidsPeak <= 64, forks refused, the host keeps answering",
    async () => {
      const bomb = run({
        command: ["sh", "-c", "f() { f | f & }; f; sleep 1000"],
        limits: { pids: 64, timeout: `${3 * SLOW}s` },
        killAfter: 0,
      });
      // While it rages, the host still starts processes promptly.
      await Bun.sleep(1000 * SLOW);
      const t0 = performance.now();
      const probe = await sh(["true"]);
      const took = performance.now() - t0;
      expect(probe.code).toBe(0);
      expect(took).toBeLessThan(2000 * SLOW);

      const r = await bomb;
      expect(r.reason).toBe("timeout");
      expect(r.pidsPeak).not.toBeNull();
      expect(r.pidsPeak ?? 0).toBeGreaterThan(32);
      expect(r.pidsPeak ?? 999).toBeLessThanOrEqual(64);
      expect(r.limits.fired).toEqual(["timeout", "pids"]);
      expect(r.limits.pidsRefused).toBeGreaterThan(0);
    },
    60_000 * SLOW,
  );

  withCgroups(
    "threads count: a program creating threads stops at the limit",
    async () => {
      const r = await run({ command: [threads], limits: { pids: 16 } });
      expect(r.reason).toBe("ok");
      // 16 = the sandbox's init + the program's main thread + 14 more.
      expect(Number(r.stdout.trim())).toBe(14);
      expect(r.pidsPeak).toBe(16);
      expect(r.limits.fired).toEqual(["pids"]);
    },
    60_000 * SLOW,
  );
});
