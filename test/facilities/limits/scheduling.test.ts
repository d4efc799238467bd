/**
 * What lets the init end a run on time on a busy machine: as root with a time
 * limit it is a real-time task (its command a normal one), and every sandbox
 * is a session of its own. The kernel shares CPU time among sessions
 * (autogroups) before among their processes: an init left in the caller's
 * session forked its command into the caller's crowd (a burst of a hundred
 * runs from one shell), where it could wait a second for its first turn, and
 * a SIGTERM at its deadline could not end it before.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { spawn } from "../../../src/index.ts";
import { IS_ROOT, needs } from "../../helpers/index.ts";

/** pgrp and session of a process (/proc/<pid>/stat fields 5 and 6, after the comm). */
function sessionOf(pid: number | "self"): { pgrp: number; session: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { pgrp: Number(rest[2]), session: Number(rest[3]) };
}

/** The scheduling policy number /proc/<pid>/sched shows (1: SCHED_FIFO). */
function policyOf(pid: number): number {
  const m = /^policy\s*:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/sched`, "utf8"));
  if (!m) throw new Error(`no policy in /proc/${pid}/sched`);
  return Number(m[1]);
}

const autogroups = existsSync("/proc/sys/kernel/sched_autogroup_enabled")
  ? readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() === "1"
  : false;

async function withInit(spec: Parameters<typeof spawn>[0], fn: (init: number) => void): Promise<void> {
  const sb = spawn(spec);
  try {
    await sb.ready;
    fn(sb.pid);
  } finally {
    sb.kill("SIGKILL");
    await sb.exited;
  }
}

describe("the init's scheduling", () => {
  for (const userns of ["default", "host"] as const) {
    test(`the init is a session and process group of its own, not the caller's (userns ${userns})`, async () => {
      await withInit({ command: ["sleep", "30"], limits: { timeout: "20s" }, userns }, (init) => {
        const mine = sessionOf("self");
        const its = sessionOf(init);
        expect(its).toEqual({ pgrp: init, session: init });
        expect(its.session).not.toBe(mine.session);
        if (autogroups) {
          expect(readFileSync(`/proc/${init}/autogroup`, "utf8")).not.toBe(
            readFileSync("/proc/self/autogroup", "utf8"),
          );
        }
      });
    });

    needs(IS_ROOT, "root (SCHED_FIFO needs CAP_SYS_NICE)")(
      `as root with a time limit the init is SCHED_FIFO (userns ${userns})`,
      async () => {
        await withInit({ command: ["sleep", "30"], limits: { timeout: "20s" }, userns }, (init) => {
          expect(policyOf(init)).toBe(1);
        });
      },
    );
  }
});
