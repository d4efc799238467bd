/** Mount entries through the library: binds, tmpfs, overlay, mask, symlink, dir, rootfs. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { SpecInput } from "../../../src/config/schema.ts";
import { run } from "../../../src/index.ts";
import { hostDir, snapshot } from "../../helpers/fs.ts";
import { IS_ROOT, needs, tempDir } from "../../helpers/index.ts";

const sh = (script: string, extra: Partial<SpecInput> = {}) =>
  run({ command: ["sh", "-c", script], cwdMount: "none", ...extra });

let fix: ReturnType<typeof hostDir>;
let data: string;
beforeAll(() => {
  fix = hostDir();
  data = join(fix.path, "data");
  mkdirSync(join(data, "sub"), { recursive: true });
  writeFileSync(join(data, "f"), "orig\n");
});
afterAll(() => fix.remove());

describe("binds", () => {
  test("--ro-bind: readable, not writable, at another path", async () => {
    const r = await sh("cat /mnt/f; echo x > /mnt/g", { mounts: [{ type: "ro-bind", src: data, dst: "/mnt" }] });
    expect(r.stdout).toBe("orig\n");
    expect(r.stderr).toContain("Read-only file system");
    expect(existsSync(join(data, "g"))).toBe(false);
  });

  test("--bind: writes land on the host", async () => {
    const r = await sh("echo new > /mnt/g", { mounts: [{ type: "bind", src: data, dst: "/mnt" }] });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(data, "g"), "utf8")).toBe("new\n");
  });

  test("a bind is nosuid and nodev; --dev-bind keeps devices", async () => {
    // Not in the sticky /tmp itself: there O_CREAT on a node of another owner (host
    // root's /dev/null, as a mapped root sees it) is refused whatever the mount.
    const devs = { type: "tmpfs" as const, dst: "/tmp/devs" };
    const r1 = await sh("echo x > /tmp/devs/null && echo wrote", {
      mounts: [devs, { type: "bind", src: "/dev/null", dst: "/tmp/devs/null" }],
    });
    expect(r1.stdout).toBe("");
    expect(r1.stderr).toContain("Permission denied");
    const r2 = await sh("echo x > /tmp/devs/null && echo wrote", {
      mounts: [devs, { type: "dev-bind", src: "/dev/null", dst: "/tmp/devs/null" }],
    });
    expect(r2.stdout).toBe("wrote\n");
  });

  test("the destination is made on the sandbox's own tmpfs", async () => {
    const r = await sh("cat /tmp/a/b/f; ls /tmp/a/b/sub && echo sub", {
      mounts: [{ type: "ro-bind", src: data, dst: "/tmp/a/b" }],
    });
    expect(r.stdout).toBe("orig\nsub\n");
  });
});

describe("tmpfs, dir, symlink, mask", () => {
  test("--tmpfs with a size, over a host directory", async () => {
    const r = await sh(`ls -A '${data}'; df -k '${data}' | tail -1; echo x > '${data}/t'`, {
      mounts: [{ type: "tmpfs", dst: data, size: "1M" }],
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^tmpfs\s+1024\s/);
    expect(existsSync(join(data, "t"))).toBe(false);
  });

  test("--dir with a mode and --symlink, inside the sandbox's own tmpfs", async () => {
    const r = await sh("stat -c %a /tmp/d/e; readlink /tmp/l; cat /tmp/l", {
      mounts: [
        { type: "dir", dst: "/tmp/d/e", mode: "750" },
        { type: "symlink", target: "/etc/hostname", dst: "/tmp/l" },
      ],
    });
    expect(r.stdout).toBe(`750\n/etc/hostname\n${readFileSync("/etc/hostname", "utf8")}`);
  });

  test("--mask hides a file and a directory", async () => {
    const r = await sh(`cat '${data}/f' | wc -c; ls -A '${data}/sub' | wc -l; ls '${data}/sub'; ls -d '${data}'`, {
      mounts: [
        { type: "mask", path: join(data, "f") },
        { type: "mask", path: join(data, "sub") },
      ],
    });
    expect(r.stdout).toBe(`0\n0\n${data}\n`);
  });

  test("entries apply in order: a later tmpfs covers an earlier bind", async () => {
    const first = await sh("cat /tmp/x/m/f", {
      mounts: [
        { type: "tmpfs", dst: "/tmp/x" },
        { type: "ro-bind", src: data, dst: "/tmp/x/m" },
      ],
    });
    expect(first.stdout).toBe("orig\n");
    const second = await sh("ls -A /tmp/x", {
      mounts: [
        { type: "ro-bind", src: data, dst: "/tmp/x/m" },
        { type: "tmpfs", dst: "/tmp/x" },
      ],
    });
    expect(second.stdout).toBe("");
  });
});

describe("--overlay", () => {
  // The lower files are the host's: as root, changing them takes host root (--userns
  // host); root runs mapped by default, and an upper dir is refused then.
  const asHost = IS_ROOT ? { userns: "host" as const } : {};
  test("without an upper dir, writes vanish after exit", async () => {
    const before = snapshot(data);
    const r = await sh(`cd '${data}' && echo new > f && echo add > g && rm -r sub && cat f g && ls`, {
      ...asHost,
      mounts: [{ type: "overlay", dst: data }],
    });
    expect(r.stdout).toBe("new\nadd\nf\ng\n");
    expect(snapshot(data)).toEqual(before);
    const again = await sh(`cat '${data}/f'`, { ...asHost, mounts: [{ type: "overlay", dst: data }] });
    expect(again.stdout).toBe("orig\n");
  });

  test("with an upper dir, they land there and the lower is untouched", async () => {
    const upper = join(fix.path, "upper");
    mkdirSync(upper);
    const before = snapshot(data);
    const r = await sh(`cd '${data}' && echo new > f && echo add > g && cat f`, {
      ...asHost,
      mounts: [{ type: "overlay", dst: data, upper }],
    });
    expect(r.stdout).toBe("new\n");
    expect(snapshot(data)).toEqual(before);
    expect(readFileSync(join(upper, "f"), "utf8")).toBe("new\n");
    expect(readFileSync(join(upper, "g"), "utf8")).toBe("add\n");
    // overlayfs's work dir, made beside the upper one for the run, is gone after it
    expect(existsSync(join(fix.path, ".upper.isolate-work"))).toBe(false);
    const next = await sh(`cat '${data}/g'`, { ...asHost, mounts: [{ type: "overlay", dst: data, upper }] });
    expect(next.stdout).toBe("add\n");
    expect(existsSync(join(fix.path, ".upper.isolate-work"))).toBe(false);
  });

  test("a work dir the caller made stays", async () => {
    const upper = join(fix.path, "upper2");
    const work = join(fix.path, "work2");
    mkdirSync(upper);
    mkdirSync(work);
    const r = await sh(`echo x > '${data}/h'`, { ...asHost, mounts: [{ type: "overlay", dst: data, upper, work }] });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(upper, "h"), "utf8")).toBe("x\n");
    expect(existsSync(work)).toBe(true);
  });
});

const busybox = "/bin/busybox";

describe("--rootfs", () => {
  needs(existsSync(busybox), "busybox-static is not installed")(
    "a small root made here, still with fresh /proc, /dev, /tmp",
    async () => {
      const root = tempDir("isolate-rootfs-");
      try {
        // Reachable by a mapped root (the rootfs is not idmapped): not a 0700 dir of root's.
        chmodSync(root.path, 0o755);
        for (const d of ["bin", "proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(root.path, d));
        copyFileSync(busybox, join(root.path, "bin", "busybox"));
        chmodSync(join(root.path, "bin", "busybox"), 0o755);
        symlinkSync("busybox", join(root.path, "bin", "sh"));
        writeFileSync(join(root.path, "etc", "marker"), "small root\n");
        const before = snapshot(root.path);
        const r = await run({
          command: [
            "/bin/sh",
            "-c",
            `pwd; cat /etc/marker; busybox ls /; busybox ls /dev | busybox wc -l; test -e /proc/1 && ! test -e /proc/${process.pid} && echo fresh-proc; touch /etc/x; echo t > /tmp/t && echo tmp-ok`,
          ],
          rootfs: root.path,
          env: [{ name: "PATH", value: "/bin" }],
        });
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toBe("/\nsmall root\nbin\ndev\netc\nproc\nsys\ntmp\n13\nfresh-proc\ntmp-ok\n");
        expect(r.stderr).toContain("Read-only file system");
        expect(snapshot(root.path)).toEqual(before);
        expect(readdirSync(join(root.path, "tmp"))).toEqual([]);
      } finally {
        root.remove();
      }
    },
  );
});
