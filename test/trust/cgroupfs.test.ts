/**
 * /sys/fs/cgroup inside a new cgroup namespace shows the sandbox's own
 * cgroups, never the host's tree: a read-only tmpfs holding a fresh,
 * read-only cgroup mount (rooted at the sandbox's cgroup) of each hierarchy
 * the sandbox has a cgroup of its own in, at the host's mount point.
 */
import { describe, expect } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups } from "../../src/cgroup/detect.ts";
import { IS_ROOT, isolate, needs, SCRATCH } from "../helpers/index.ts";

/** Directories (cgroups) below the hierarchy roots the host mounts under /sys/fs/cgroup. */
function hostCgroups(): string[] {
  const layout = detectCgroups();
  const out: string[] = [];
  for (const h of [...(layout.v2 ? [layout.v2] : []), ...layout.v1]) {
    for (const e of readdirSync(h.mount)) if (statSync(join(h.mount, e)).isDirectory()) out.push(join(h.mount, e));
  }
  return out;
}

const LIST = "find /sys/fs/cgroup -mindepth 1 -type d -o -mindepth 1 -type l | sort";

describe("/sys/fs/cgroup inside", () => {
  for (const nobody of [false, true]) {
    needs(IS_ROOT || !nobody, "root (to run as nobody)")(
      `${nobody ? "as nobody" : "as caller"}, without cgroups of its own: nothing of the host's tree`,
      async () => {
        const r = await isolate(["exec", "--", "sh", "-c", `${LIST}; touch /sys/fs/cgroup/x 2>/dev/null; echo w=$?`], {
          nobody,
          cwd: SCRATCH,
        });
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe("w=1\n");
      },
    );
  }

  needs(IS_ROOT, "root (cgroups to create)")(
    "with --memory: only its own memory cgroup, with its limit, read-only",
    async () => {
      // The host has cgroups below its hierarchies' roots (the sandbox must see none of them).
      expect(hostCgroups().length).toBeGreaterThan(0);
      const layout = detectCgroups();
      const mem = layout.controllers.memory;
      expect(mem.version).not.toBe(0);
      if (mem.version === 0) return;
      const dir = mem.hierarchy.mount;
      const limitFile = mem.version === 1 ? "memory.limit_in_bytes" : "memory.max";
      const r = await isolate(
        [
          "exec",
          "--memory",
          "100M",
          "--",
          "sh",
          "-c",
          `cat ${dir}/${limitFile}; cat ${dir}/cgroup.procs | wc -l; find ${dir} -mindepth 1 -type d | wc -l; mkdir ${dir}/x 2>/dev/null; echo w=$?; ls /sys/fs/cgroup`,
        ],
        { cwd: SCRATCH },
      );
      expect(r.stderr).toBe("");
      const [limit, procs, subdirs, w, ...names] = r.stdout.trim().split("\n");
      expect(limit).toBe("104857600");
      // The init, sh, cat and wc of the pipeline: this sandbox's processes only.
      expect(Number(procs)).toBeLessThan(6);
      expect(subdirs).toBe("0");
      expect(w).toBe("w=1");
      // Only the hierarchies it has cgroups in; the host's other ones are not there.
      expect(names).toContain(dir.slice("/sys/fs/cgroup/".length) || "memory");
      expect(names.length).toBeLessThan(layout.v1.length + (layout.v2 ? 1 : 0));
    },
  );

  needs(IS_ROOT, "root")("--share cgroup keeps the host's view", async () => {
    const r = await isolate(["exec", "--share", "cgroup", "--", "sh", "-c", LIST], { cwd: SCRATCH });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").length).toBeGreaterThan(1);
  });
});
