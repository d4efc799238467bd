/** The filesystem view through the built binary, as root and as nobody. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostDir, hostMountinfo, parseMountinfo, snapshot, UNDO_VIEW } from "../../helpers/fs.ts";
import { BIN, IS_ROOT, isolate, needs, sh, tempDir } from "../../helpers/index.ts";

/** Whether the sandbox's command runs without capabilities: [as root, as nobody]. */
const capsDropped = await Promise.all(
  [false, true].map(async (nobody) => {
    if (nobody && !IS_ROOT) return false;
    const r = await isolate(["exec", "--", "grep", "CapEff", "/proc/self/status"], { nobody });
    return /CapEff:\s*0+\s*$/.test(r.stdout);
  }),
);

let fix: ReturnType<typeof hostDir>;
let ws: ReturnType<typeof tempDir>;
beforeAll(() => {
  fix = hostDir();
  chmodSync(fix.path, 0o755);
  writeFileSync(join(fix.path, "f"), "orig\n");
  mkdirSync(join(fix.path, "a:b c"));
  writeFileSync(join(fix.path, "a:b c", "g"), "escaped\n");
  // A workspace (the cwd) anyone may write, poisoned with a link to /.
  ws = tempDir("isolate-ws-");
  chmodSync(ws.path, 0o777);
  symlinkSync("/", join(ws.path, "sub"));
});
afterAll(() => {
  fix.remove();
  ws.remove();
});

for (const nobody of [false, true]) {
  const who = nobody ? "as nobody" : "as root";
  const t = nobody ? needs(IS_ROOT, "switching to nobody needs root") : test;

  describe(`default view ${who}`, () => {
    t("the cwd is writable, persists, and the command starts there", async () => {
      const name = `out-${nobody ? "nobody" : "root"}`;
      const r = await isolate(["exec", "--", "sh", "-c", `pwd; echo hi > ${name}`], { cwd: ws.path, nobody });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(`${ws.path}\n`);
      expect(readFileSync(join(ws.path, name), "utf8")).toBe("hi\n");
    });

    t("--ro-cwd shares it read-only; --no-cwd leaves it out and starts at /", async () => {
      const ro = await isolate(["exec", "--ro-cwd", "--", "sh", "-c", "ls sub >/dev/null && echo x > y"], {
        cwd: ws.path,
        nobody,
      });
      expect(ro.stderr).toContain("Read-only file system");
      expect(existsSync(join(ws.path, "y"))).toBe(false);
      // Not bound: the directory is seen only through the read-only root (or
      // not at all, under a private dir such as /tmp).
      const none = await isolate(
        ["exec", "--no-cwd", "--", "sh", "-c", `pwd; touch ${ws.path}/z 2>/dev/null || echo not-writable`],
        { cwd: ws.path, nobody },
      );
      expect(none.stdout).toBe("/\nnot-writable\n");
      expect(existsSync(join(ws.path, "z"))).toBe(false);
    });

    t("/ and every submount read-only; /tmp private; only the sandbox's pids", async () => {
      const r = await isolate(
        [
          "exec",
          "--",
          "sh",
          "-c",
          "cat /proc/self/mountinfo; echo --; echo \"tmp:$(ls -A /tmp)\"; ls /proc | grep -c '^[0-9]'",
        ],
        { cwd: fix.path, nobody }, // a cwd under /tmp would show its mount point there
      );
      const [info = "", rest = ""] = r.stdout.split("--\n");
      const [tmp, pids] = rest.split("\n");
      const mounts = parseMountinfo(info);
      expect(mounts.find((m) => m.point === "/")?.options).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev"]));
      for (const m of mounts.filter((x) => x.point === "/sys" || x.point.startsWith("/sys/")))
        expect({ p: m.point, o: m.options }).toEqual({ p: m.point, o: expect.arrayContaining(["ro"]) });
      expect(tmp).toBe("tmp:");
      expect(Number(pids)).toBeLessThanOrEqual(4);
    });

    t("the host's device nodes stay out; mknod fails", async () => {
      const r = await isolate(["exec", "--", "sh", "-c", "ls /dev | wc -l; mknod /dev/x c 1 3 || echo refused"], {
        cwd: ws.path,
        nobody,
      });
      expect(r.stdout).toBe("13\nrefused\n");
    });

    t("the poisoned workspace: 125, one line naming the path, host unchanged", async () => {
      const mounts = hostMountinfo();
      const r = await isolate(["exec", "--tmpfs", `${ws.path}/sub/etc`, "--", "echo", "RAN"], {
        cwd: ws.path,
        nobody,
      });
      expect(r.code).toBe(125);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `isolate: --tmpfs ${ws.path}/sub/etc: ${ws.path}/sub is a symbolic link inside the sandbox (mount paths never follow symlinks)\n`,
      );
      const last = await isolate(["exec", "--bind", `${fix.path}:${ws.path}/sub`, "--", "echo", "RAN"], {
        cwd: ws.path,
        nobody,
      });
      expect(last.code).toBe(125);
      expect(last.stderr).toContain(`${ws.path}/sub is a symbolic link`);
      expect(hostMountinfo()).toBe(mounts);
    });

    if (nobody) {
      t("mount -o remount,rw / fails: the host's filesystem is not the sandbox's to reconfigure", async () => {
        const r = await isolate(["exec", "--", "sh", "-c", "mount -o remount,rw / 2>/dev/null || echo refused"], {
          cwd: ws.path,
          nobody,
        });
        expect(r.stdout).toBe("refused\n");
      });
    }

    // The rest needs CAP_SYS_ADMIN gone from the sandbox (the hardening issue drops it).
    const dropped = capsDropped[nobody ? 1 : 0] ?? false;
    (nobody && !IS_ROOT
      ? needs(false, "switching to nobody needs root")
      : needs(dropped, "capabilities are not dropped in this sandbox"))(
      "remount read-write, umount of a mask, a new mount: all fail",
      async () => {
        const script = UNDO_VIEW;
        const r = await isolate(["exec", "--", "sh", "-c", script], { cwd: ws.path, nobody });
        expect(r.stdout).toBe("done\n");
      },
    );
  });
}

describe("flags", () => {
  test("a backslash escapes ':' and spaces", async () => {
    const src = `${fix.path}/a\\:b\\ c`;
    const r = await isolate(["exec", "--ro-bind", `${src}:/tmp/x\\:y z`, "--", "cat", "/tmp/x:y z/g"], {
      cwd: ws.path,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("escaped\n");
  });

  test("repeated flags apply in order", async () => {
    const a = await isolate(
      ["exec", "--tmpfs", "/tmp/o", "--ro-bind", `${fix.path}:/tmp/o/m`, "--", "cat", "/tmp/o/m/f"],
      { cwd: ws.path },
    );
    expect(a.stderr).toBe("");
    expect(a.stdout).toBe("orig\n");
    const b = await isolate(
      ["exec", "--ro-bind", `${fix.path}:/tmp/o/m`, "--tmpfs", "/tmp/o", "--", "ls", "-A", "/tmp/o"],
      { cwd: ws.path },
    );
    expect(b.stdout).toBe("");
  });

  test("bad mount specs: 125 and one line each, nothing created", async () => {
    const before = snapshot(fix.path);
    const mounts = hostMountinfo();
    const cases: [string[], string][] = [
      [["--bind", "/nonexistent-src"], "isolate: --bind /nonexistent-src: source /nonexistent-src does not exist\n"],
      [["--tmpfs", "rel/dir"], 'isolate: --tmpfs rel/dir: destination "rel/dir" is not an absolute path\n'],
      [["--tmpfs", "/a/../b"], 'isolate: --tmpfs /a/../b: destination "/a/../b" has a "." or ".." component\n'],
      [["--tmpfs", "/"], "isolate: --tmpfs /: cannot mount over / (use --rootfs DIR to change the root)\n"],
      [
        ["--bind", `${fix.path}/f:/usr`],
        `isolate: --bind ${fix.path}/f:/usr: cannot mount the file ${fix.path}/f over the directory /usr\n`,
      ],
      [
        ["--bind", `${fix.path}:${ws.path}/new/dir`],
        `isolate: --bind ${fix.path}:${ws.path}/new/dir: ${ws.path}/new/dir does not exist, and ${ws.path} is a writable host directory (a bind), where isolate creates nothing (create ${ws.path}/new/dir on the host first, or choose a destination outside it)\n`,
      ],
      [["--rootfs", "/nonexistent-root"], "isolate: --rootfs /nonexistent-root: no such directory\n"],
      [
        ["--bind", "/a:/b:/c"],
        "isolate: --bind /a:/b:/c: expected SRC[:DST] (escape a ':' or a space in a path with a backslash)\n",
      ],
    ];
    for (const [flags, message] of cases) {
      const r = await isolate(["exec", ...flags, "--", "echo", "RAN"], { cwd: ws.path });
      expect({ flags, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        flags,
        code: 125,
        stdout: "",
        stderr: message,
      });
    }
    expect(snapshot(fix.path)).toEqual(before);
    expect(hostMountinfo()).toBe(mounts);
  });

  test("isolate plan lists the view and creates nothing", async () => {
    const r = await isolate(["plan", "--overlay", `/usr:${fix.path}/up`, "--tmpfs", "/opt", "--", "true"], {
      cwd: ws.path,
    });
    // the upper dir is missing: refused before anything is made
    expect(r.code).toBe(125);
    const ok = await isolate(["plan", "--tmpfs", "/opt", "--mask", "/etc/shadow", "--", "true"], { cwd: ws.path });
    expect(ok.code).toBe(0);
    for (const line of [
      'read-only root from "/"',
      'proc on "/proc"',
      'mask "/proc/kcore"',
      'read-only "/proc/sys"',
      'minimal dev on "/dev"',
      'tmpfs on "/tmp"',
      `bind "${ws.path}" on "${ws.path}" (read-write`,
      'tmpfs on "/opt"',
      'mask "/etc/shadow"',
      "pivot_root into the new root",
    ])
      expect(ok.stdout).toContain(line);
    expect(existsSync(`${fix.path}/up`)).toBe(false);
  });
});

describe("submounts of the host", () => {
  needs(IS_ROOT, "creating a private test mount needs root")(
    "a writable submount (made in a private mount namespace) is read-only inside",
    async () => {
      const sub = join(fix.path, "sub");
      mkdirSync(sub, { recursive: true });
      // The tmpfs exists only in unshare's own namespace; isolate sees it as a host submount.
      const script = [
        `mount -t tmpfs isolate-test-sub '${sub}'`,
        `touch '${sub}/outside' && echo writable-outside`,
        `'${BIN}' exec --no-cwd -- sh -c "touch '${sub}/inside' || echo refused; grep -c ' ${sub} .*ro,' /proc/self/mountinfo"`,
      ].join("\n");
      const r = await sh(["unshare", "--mount", "--propagation", "private", "sh", "-c", script]);
      expect(r.stdout).toBe("writable-outside\nrefused\n1\n");
      expect(r.stderr).toContain("Read-only file system");
      expect(existsSync(join(sub, "outside"))).toBe(false); // never on the host's disk
    },
  );
});
