/** The default filesystem view, through the library, with real sandboxes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SpecInput } from "../../../src/config/schema.ts";
import { DEV_LINKS, DEV_NODES, MASKED_PATHS, READONLY_PATHS } from "../../../src/facilities/view/ops.ts";
import { run } from "../../../src/index.ts";
import { hostDir, hostMountinfo, parseMountinfo, snapshot } from "../../helpers/fs.ts";
import { IS_ROOT, needs } from "../../helpers/index.ts";

const sh = (script: string, extra: Partial<SpecInput> = {}) => run({ command: ["sh", "-c", script], ...extra });

describe("read-only host root", () => {
  test("one root (the old one detached); every mount read-only but the sandbox's own scratch, devices and the cwd", async () => {
    const r = await sh("cat /proc/self/mountinfo");
    expect(r.exitCode).toBe(0);
    const mounts = parseMountinfo(r.stdout);
    const cwd = process.cwd();
    const writable = new Set(["/proc", "/dev/pts", "/dev/shm", "/tmp", "/var/tmp", cwd]);
    for (const n of DEV_NODES) writable.add(`/dev/${n}`);
    const rw = mounts.filter((m) => !m.options.includes("ro"));
    for (const m of rw) {
      // A masked file is /dev/null bound over it: writes vanish.
      const maskedFile = m.root === "/null" && m.fstype === "devtmpfs";
      expect({ point: m.point, ok: writable.has(m.point) || maskedFile }).toEqual({ point: m.point, ok: true });
    }
    // One root: the old one was detached after pivot_root, nothing leads back to it.
    expect(mounts.filter((m) => m.point === "/")).toHaveLength(1);
    // The root and every host submount are there, read-only, nosuid, nodev.
    const root = mounts.find((m) => m.point === "/");
    expect(root?.options).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev"]));
    const covered = ["/proc", "/dev", "/tmp", "/var/tmp", "/run", "/var/run"];
    const hostPoints = parseMountinfo(hostMountinfo())
      .map((m) => m.point)
      .filter((p) => p !== "/" && !covered.some((c) => p === c || p.startsWith(`${c}/`)));
    expect(hostPoints.length).toBeGreaterThan(0);
    for (const p of hostPoints) {
      const inside = mounts.filter((m) => m.point === p);
      expect({ p, found: inside.length > 0 }).toEqual({ p, found: true });
      for (const m of inside) expect({ p, opts: m.options }).toEqual({ p, opts: expect.arrayContaining(["ro"]) });
    }
  });

  describe("writes fail through each primitive, and the host is untouched", () => {
    let dir: ReturnType<typeof hostDir>;
    beforeAll(() => {
      dir = hostDir();
      writeFileSync(join(dir.path, "f"), "orig\n");
    });
    afterAll(() => dir.remove());

    test("open for write, create, rename, unlink, chmod, utime, mkdir, link, truncate", async () => {
      const before = snapshot(dir.path);
      const tries: [string, string][] = [
        ["open", "echo x >> f"],
        ["create", "echo x > new"],
        ["rename", "mv f f2"],
        ["unlink", "rm -f f"],
        ["chmod", "chmod 600 f"],
        ["utime", "touch -d 2000-01-01 f"],
        ["mkdir", "mkdir d"],
        ["link", "ln f f3"],
        ["truncate", "truncate -s 0 f"],
      ];
      const script = [
        `cd '${dir.path}' || exit 99`,
        ...tries.map(
          ([name, cmd]) => `if ${cmd} 2>/dev/null; then echo "${name} WROTE"; else echo "${name} refused"; fi`,
        ),
        // and the error is the read-only mount's, not a permission
        "touch new3",
      ].join("\n");
      // As host root (--userns host), so that the read-only mount is all that refuses.
      const r = await sh(script, { cwdMount: "none", ...(IS_ROOT ? { userns: "host" as const } : {}) });
      const lines = r.stdout.trim().split("\n");
      expect(lines).toEqual(tries.map(([name]) => `${name} refused`));
      expect(r.stderr).toContain("Read-only file system");
      expect(snapshot(dir.path)).toEqual(before);
      expect(readFileSync(join(dir.path, "f"), "utf8")).toBe("orig\n");
    });
  });

  test("/sys is read-only", async () => {
    const r = await sh("touch /sys/isolate-probe; grep ' /sys ' /proc/self/mountinfo");
    expect(r.stderr).toContain("Read-only file system");
    expect(parseMountinfo(r.stdout)[0]?.options).toContain("ro");
  });
});

describe("private /tmp", () => {
  test("empty inside, private, and gone after exit", async () => {
    const name = `isolate-fs-${process.pid}-${Date.now()}`;
    const r1 = await sh(
      `ls -A /tmp /var/tmp; echo secret > /tmp/${name}; echo more > /var/tmp/${name}; cat /tmp/${name}`,
    );
    expect(r1.exitCode).toBe(0);
    expect(r1.stdout).toBe("/tmp:\n\n/var/tmp:\nsecret\n");
    expect(existsSync(`/tmp/${name}`)).toBe(false);
    expect(existsSync(`/var/tmp/${name}`)).toBe(false);
    const r2 = await sh("ls -A /tmp /var/tmp");
    expect(r2.stdout).toBe("/tmp:\n\n/var/tmp:\n");
  });
});

describe("/proc", () => {
  test("shows only the sandbox's processes", async () => {
    const r = await sh("ls /proc");
    const pids = r.stdout
      .split("\n")
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    expect(pids).toContain(1);
    expect(pids.length).toBeLessThanOrEqual(4);
    expect(Math.max(...pids)).toBeLessThan(10);
  });

  test("each masked path reads empty or is absent", async () => {
    const script = MASKED_PATHS.map(
      (p) =>
        `if [ -e ${p} ]; then if [ -d ${p} ]; then echo "${p} $(ls -A ${p} | wc -l)"; else echo "${p} $(cat ${p} | wc -c)"; fi; else echo "${p} absent"; fi`,
    ).join("\n");
    const r = await sh(script);
    const seen = r.stdout.trim().split("\n");
    expect(seen).toHaveLength(MASKED_PATHS.length);
    for (const line of seen) expect(line).toMatch(/ (0|absent)$/);
    // At least some of them hold something on this host: the mask did the hiding.
    const hidden = MASKED_PATHS.filter((p) => {
      try {
        return statSync(p).isDirectory() ? readdirSync(p).length > 0 : readFileSync(p).length > 0;
      } catch {
        return false;
      }
    });
    expect(hidden.length).toBeGreaterThan(0);
  });

  test("/proc/sys and the other control paths are read-only", async () => {
    // domainname belongs to the sandbox's own uts namespace: harmless even if the write went through.
    const r = await sh(
      'cat /proc/self/mountinfo; echo "$(cat /proc/sys/kernel/domainname)" > /proc/sys/kernel/domainname',
    );
    expect(r.stderr).toContain("Read-only file system");
    const mounts = parseMountinfo(r.stdout);
    for (const p of READONLY_PATHS) {
      if (!existsSync(p)) continue;
      expect({ p, opts: mounts.find((m) => m.point === p)?.options }).toEqual({
        p,
        opts: expect.arrayContaining(["ro", "nosuid", "nodev"]),
      });
    }
  });
});

describe("/dev", () => {
  test("only the listed nodes, links, pts and shm", async () => {
    const r = await sh("ls -A /dev; echo --; ls -A /dev/pts");
    const expected = [...DEV_NODES, ...DEV_LINKS.map(([n]) => n), "pts", "shm"].sort();
    const [dev = "", pts = ""] = r.stdout.split("--\n");
    expect(dev.trim().split("\n").sort()).toEqual(expected);
    expect(pts).toBe("ptmx\n"); // a private devpts: no host ptys
  });

  test("the nodes work; creating a device node fails", async () => {
    const r = await sh(
      [
        "head -c 5 /dev/zero | wc -c",
        "head -c 5 /dev/urandom | wc -c",
        "echo hi > /dev/null && echo null-ok",
        "echo hi > /dev/full || echo full-refused",
        "mknod /dev/isolate-probe c 1 3 && echo MKNOD-DEV",
        // On the private /tmp (nodev) a node may be made by root, but it does not open.
        "mknod /tmp/n c 1 3 2>/dev/null && { head -c1 /tmp/n >/dev/null 2>&1 && echo NODE-OPENED; }",
        "test -e /dev/vda -o -e /dev/kmsg -o -e /dev/mem && echo HOST-NODE",
        "python3 -c 'import os; m, s = os.openpty(); print(os.ttyname(s))'",
      ].join("\n"),
    );
    expect(r.stdout).toBe("5\n5\nnull-ok\nfull-refused\n/dev/pts/0\n");
    expect(r.stderr).toContain("Read-only file system");
  });
});

describe("/run", () => {
  const hostRun = (() => {
    try {
      return readdirSync("/run").length > 0;
    } catch {
      return false;
    }
  })();

  needs(hostRun, "the host's /run is empty")("host daemons' sockets are out of reach", async () => {
    const r = await sh("ls -A /run /var/run; touch /run/x");
    expect(r.stdout).toBe("/run:\n\n/var/run:\n");
    expect(r.stderr).toContain("Read-only file system");
  });

  test("--bind brings one in on purpose", async () => {
    const path = `/run/isolate-fs-test-${process.pid}.sock`;
    const server = Bun.listen({ unix: path, socket: { data() {} } });
    try {
      const without = await sh(`test -e ${path} && echo VISIBLE; echo done`);
      expect(without.stdout).toBe("done\n");
      const r = await sh(`test -S ${path} && echo socket`, { mounts: [{ type: "bind", src: path }] });
      expect(r.stdout).toBe("socket\n");
    } finally {
      server.stop(true);
    }
  });
});

describe("the current directory", () => {
  test("the command starts there", async () => {
    const r = await sh("pwd");
    expect(r.stdout.trim()).toBe(process.cwd());
  });
});
