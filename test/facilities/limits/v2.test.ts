/**
 * The cgroup v2 backend's own rules, with the built binary (run by
 * scripts/vm-lane.sh on a kernel with cgroup v2 only):
 *  - isolate alone in a non-root cgroup moves itself into a leaf to enable
 *    controllers (no internal processes), and undoes it all at exit;
 *  - other processes in its cgroup: 125 with the remedy, nothing touched;
 *  - an unprivileged user in a delegated cgroup gets enforced limits.
 */
import { afterEach, describe, expect } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { BIN, NOBODY, sh } from "../../helpers/index.ts";
import { LAYOUT, SLOW, v2Only } from "../../helpers/limits.ts";

const root = LAYOUT.v2?.dir ?? "/sys/fs/cgroup";
let made: string | undefined;

function freshCgroup(): string {
  made = `${root}/isolate-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(made);
  return made;
}

const read = (p: string) => readFileSync(p, "utf8").trim();
const subdirs = (p: string) =>
  readdirSync(p, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

afterEach(async () => {
  if (!made || !existsSync(made)) return;
  // end whatever a failed test left in it, then remove it
  try {
    writeFileSync(`${made}/cgroup.kill`, "1");
  } catch {}
  for (let i = 0; i < 100 && existsSync(made); i++) {
    try {
      for (const d of subdirs(made)) rmdirSync(`${made}/${d}`);
      rmdirSync(made);
    } catch {
      await Bun.sleep(20);
    }
  }
  made = undefined;
});

/** Run `isolate ARGS` as the only process of cgroup `cg` (a shell moves itself there, then execs). */
function inCgroup(cg: string, args: string[], opts: { before?: string; as?: string[] } = {}) {
  const quoted = [...(opts.as ?? []), BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return sh(["sh", "-c", `echo $$ > ${cg}/cgroup.procs || exit 99; ${opts.before ?? ""} exec ${quoted}`]);
}

describe("cgroup v2: delegation and the no-internal-processes rule", () => {
  v2Only()(
    "alone in its cgroup, isolate moves into a leaf, enables what it needs, and restores everything at exit",
    async () => {
      const cg = freshCgroup();
      expect(read(`${cg}/cgroup.subtree_control`)).toBe("");
      const r = await inCgroup(cg, ["exec", "--json", "--memory", "64M", "--pids", "32", "--", "sh", "-c", "echo in"]);
      expect(r.stdout).toBe("in\n");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stderr);
      expect(j.limits.cgroup.versions).toMatchObject({ memory: "v2", pids: "v2" });
      expect(j.limits.cgroup.paths[0]).toMatch(new RegExp(`^${cg}/isolate-\\d+-1$`));
      // after exit: no leaf, no sandbox cgroup, controllers disabled again, nobody inside
      expect(subdirs(cg)).toEqual([]);
      expect(read(`${cg}/cgroup.subtree_control`)).toBe("");
      expect(read(`${cg}/cgroup.procs`)).toBe("");
    },
    60_000 * SLOW,
  );

  v2Only()(
    "sharing its cgroup with another process: 125 naming the limit and the remedy, nothing changed",
    async () => {
      const cg = freshCgroup();
      const r = await inCgroup(cg, ["exec", "--memory", "64M", "--", "true"], { before: "sleep 30 >/dev/null 2>&1 &" });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(
        /^isolate: --memory: cannot be enforced: \S+ also holds other processes \(\d+\), so cgroup v2 cannot enable memory below it \(start isolate in a cgroup of its own, e\.g\. `systemd-run --scope -p Delegate=yes isolate \.\.\.`/,
      );
      expect(subdirs(cg)).toEqual([]);
      expect(read(`${cg}/cgroup.subtree_control`)).toBe("");
    },
    60_000 * SLOW,
  );

  v2Only()(
    "an unprivileged user in a cgroup delegated to it gets its limits enforced",
    async () => {
      const cg = freshCgroup();
      for (const f of ["", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"]) {
        const c = await sh(["chown", "65534:65534", `${cg}${f}`]);
        expect(c.code).toBe(0);
      }
      const r = await inCgroup(
        cg,
        ["exec", "--json", "--memory", "32M", "--pids", "16", "--", "sh", "-c", "exec tail /dev/zero"],
        {
          as: NOBODY,
        },
      );
      expect(r.code).toBe(137);
      const j = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
      expect(j.reason).toBe("oom");
      expect(j.limits.cgroup.versions.memory).toBe("v2");
      expect(subdirs(cg)).toEqual([]);
    },
    60_000 * SLOW,
  );
});
