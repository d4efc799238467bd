/**
 * No capability anywhere in the sandbox, the init included: once the command
 * is started, the init (read from the host, /proc/<init>/status) holds no
 * capability in any set, bounding set included, and runs with the command's
 * ids, in every mode, as root and as nobody. With --cap-add the command keeps
 * what it asked for and the init CAP_KILL only. Killing the whole sandbox
 * (SIG_END) still works after the drop.
 */
import { describe, expect } from "bun:test";
import { readFileSync } from "node:fs";
import { ROOT_RANGE_BASE } from "../../src/facilities/identity/ops.ts";
import { BIN, IS_ROOT, initOf, marker, NOBODY, needs, pidsWith, SCRATCH, sh, waitFor } from "../helpers/index.ts";

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const [k, v] = line.split(":\t");
    if (k && v !== undefined) out[k] = v.trim();
  }
  return out;
}

const NONE = "0000000000000000";
const CAP_KILL = "0000000000000020";

/** Starts `isolate exec ARGS -- sleep 30`, returns the init's settled status. */
async function initStatus(args: string[], nobody: boolean): Promise<Record<string, string>> {
  const p = Bun.spawn([...(nobody ? NOBODY : []), BIN, "exec", ...args, "--", "sleep", "30"], {
    stdout: "ignore",
    stderr: "pipe",
    cwd: SCRATCH,
  });
  try {
    const init = await initOf(p.pid);
    expect(init).toBeGreaterThan(0);
    // Settled: the command is sleep (it execed), and the init is done with its own drop.
    const s = await waitFor(() => {
      try {
        const kids = readFileSync(`/proc/${init}/task/${init}/children`, "utf8").trim();
        const cmd = kids ? readFileSync(`/proc/${kids.split(" ")[0]}/comm`, "utf8").trim() : "";
        const st = status(init as number);
        return cmd === "sleep" && st.NoNewPrivs === "1" ? st : undefined;
      } catch {
        return undefined;
      }
    });
    expect(s).toBeDefined();
    return s as Record<string, string>;
  } finally {
    p.kill("SIGKILL");
    await p.exited;
  }
}

const MODES: { name: string; nobody: boolean; args: string[]; uid: string }[] = [
  // Root runs mapped: its init takes uid 0 of the namespace, root's range on the host.
  { name: "root", nobody: false, args: [], uid: String(ROOT_RANGE_BASE) },
  { name: "root --userns host", nobody: false, args: ["--userns", "host"], uid: "0" },
  { name: "root --user 65534", nobody: false, args: ["--user", "65534"], uid: "65534" },
  { name: "root --user 65534 --share pid", nobody: false, args: ["--user", "65534", "--share", "pid"], uid: "65534" },
  { name: "root --uid 0 (user namespace)", nobody: false, args: ["--uid", "0"], uid: String(ROOT_RANGE_BASE) },
  {
    name: "root --uid 1000 (user namespace)",
    nobody: false,
    args: ["--uid", "1000"],
    uid: String(ROOT_RANGE_BASE + 1000),
  },
  { name: "root --share pid", nobody: false, args: ["--share", "pid"], uid: String(ROOT_RANGE_BASE) },
  { name: "root --share user (no user namespace)", nobody: false, args: ["--share", "user"], uid: "0" },
  { name: "nobody", nobody: true, args: [], uid: "65534" },
  { name: "nobody --uid 0", nobody: true, args: ["--uid", "0"], uid: "65534" },
  // (nobody --share pid is refused without a delegated cgroup: test/trust/share-pid.test.ts)
];

describe("the init holds no capability once the command runs", () => {
  for (const m of MODES) {
    needs(IS_ROOT, "root (to read the init's status, and to run as root and as nobody)")(m.name, async () => {
      const s = await initStatus(m.args, m.nobody);
      expect({
        CapInh: s.CapInh,
        CapPrm: s.CapPrm,
        CapEff: s.CapEff,
        CapAmb: s.CapAmb,
        CapBnd: s.CapBnd,
        NoNewPrivs: s.NoNewPrivs,
      }).toEqual({ CapInh: NONE, CapPrm: NONE, CapEff: NONE, CapAmb: NONE, CapBnd: NONE, NoNewPrivs: "1" });
      // The command's host uid, in all four (real, effective, saved, fs).
      expect(s.Uid).toBe([m.uid, m.uid, m.uid, m.uid].join("\t"));
    });
  }

  needs(IS_ROOT, "root")("--cap-add: the command keeps what it asked for, the init CAP_KILL only", async () => {
    for (const nobody of [false, true]) {
      const s = await initStatus(["--cap-add", "NET_BIND_SERVICE"], nobody);
      expect([s.CapInh, s.CapPrm, s.CapEff, s.CapAmb, s.CapBnd]).toEqual([NONE, CAP_KILL, CAP_KILL, NONE, CAP_KILL]);
      const r = await sh([BIN, "exec", "--cap-add", "NET_BIND_SERVICE", "--", "grep", "^CapEff", "/proc/self/status"], {
        nobody,
      });
      expect(r.stdout).toBe("CapEff:\t0000000000000400\n");
    }
  });
});

describe("killing the whole sandbox still works after the drop", () => {
  for (const [name, nobody, args] of [
    ["root", false, []],
    ["root --user 65534", false, ["--user", "65534"]],
    ["root --share pid", false, ["--share", "pid"]],
    ["nobody", true, []],
  ] as const) {
    // The shell ignores the SIGTERM of --timeout: only the init's kill of everything (SIG_END) ends it.
    needs(IS_ROOT, "root (to run as root and as nobody)")(`${name}: --kill-after kills every process`, async () => {
      const tag = marker();
      const path = `${SCRATCH}/${tag}`;
      await sh(["cp", "/bin/sleep", path]);
      await sh(["chmod", "755", path]);
      try {
        const t0 = performance.now();
        const r = await sh(
          [
            BIN,
            "exec",
            ...args,
            "--timeout",
            "1s",
            "--kill-after",
            "1s",
            "--",
            "sh",
            "-c",
            `trap '' TERM; ${path} 100 & ${path} 100; wait`,
          ],
          { nobody, cwd: SCRATCH },
        );
        expect(performance.now() - t0).toBeLessThan(8000);
        expect(r.code).not.toBe(0);
        expect(await waitFor(async () => (await pidsWith(tag)).length === 0, 3000)).toBe(true);
      } finally {
        await sh(["rm", "-f", path]);
      }
    });
  }
});
