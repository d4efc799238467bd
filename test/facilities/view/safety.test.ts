/**
 * The view cannot be steered or undone: poisoned workspaces, bad mount specs
 * (125, a clear message, no trace), and remount/umount from inside.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { flagNamer } from "../../../src/cli/output.ts";
import type { SpecInput } from "../../../src/config/schema.ts";
import { IsolateError, run } from "../../../src/index.ts";
import { failureText } from "../../../src/supervisor/result.ts";
import { hostDir, hostMountinfo, snapshot, UNDO_VIEW } from "../../helpers/fs.ts";
import { IS_ROOT, needs } from "../../helpers/index.ts";

const sh = (script: string, extra: Partial<SpecInput> = {}) =>
  run({ command: ["sh", "-c", script], cwdMount: "none", ...extra });

let fix: ReturnType<typeof hostDir>;
let ws: string;
beforeAll(() => {
  fix = hostDir();
  ws = join(fix.path, "ws");
  mkdirSync(join(ws, "real"), { recursive: true });
  writeFileSync(join(fix.path, "file"), "a file\n");
  // The poison: a component a previous run could have left, pointing at the host's /.
  symlinkSync("/", join(ws, "sub"));
});
afterAll(() => fix.remove());

/** Run input; it must fail before or during setup with 125, leaving the host as it was. */
async function refused(input: Partial<SpecInput>): Promise<string> {
  const mounts = hostMountinfo();
  const tree = snapshot(fix.path);
  let message: string;
  try {
    const r = await sh("echo RAN", input);
    expect(r.stdout).toBe("");
    expect(r.exitCode).toBe(125);
    expect(r.reason).toBe("setup");
    message = r.error ? failureText(r.error, flagNamer) : "";
  } catch (e) {
    if (!(e instanceof IsolateError)) throw e;
    expect(e.exitCode).toBe(125);
    message = e.text(flagNamer);
  }
  expect(message).not.toContain("\n");
  expect(hostMountinfo()).toBe(mounts);
  expect(snapshot(fix.path)).toEqual(tree);
  return message;
}

describe("a poisoned workspace", () => {
  test("a symlink to / in a destination is refused before anything is made", async () => {
    const msg = await refused({ mounts: [{ type: "tmpfs", dst: join(ws, "sub", "etc") }] });
    expect(msg).toBe(
      `--tmpfs ${ws}/sub/etc: ${ws}/sub is a symbolic link inside the sandbox (mount paths never follow symlinks)`,
    );
    expect(existsSync("/etc/passwd")).toBe(true);
  });

  test("one only the sandbox can see is refused by the setup itself (openat2, no symlinks)", async () => {
    // The link comes from an overlay's upper dir: invisible to the checks made before spawning.
    const layer = hostDir();
    const upper = join(layer.path, "upper");
    const work = join(layer.path, "work");
    mkdirSync(upper);
    mkdirSync(work);
    try {
      symlinkSync("/", join(upper, "evil"));
      const before = snapshot(upper);
      const overlay = { type: "overlay" as const, dst: join(ws, "real"), upper, work };
      // An overlay upper dir needs --userns host as root (not idmapped yet).
      const asHost = IS_ROOT ? { userns: "host" as const } : {};
      const deep = await refused({
        ...asHost,
        mounts: [overlay, { type: "tmpfs", dst: join(ws, "real", "evil", "etc") }],
      });
      expect(deep).toBe(
        `setup: tmpfs on "${ws}/real/evil/etc" (size 25% of RAM): a component of the path is a symbolic link (mount paths never follow symlinks)`,
      );
      // The last component itself a link: a bind would have landed on the host's /.
      const last = await refused({
        ...asHost,
        mounts: [overlay, { type: "ro-bind", src: ws, dst: join(ws, "real", "evil") }],
      });
      expect(last).toContain("a component of the path is a symbolic link");
      expect(snapshot(upper)).toEqual(before);
    } finally {
      layer.remove();
    }
  });
});

describe("bad mount specs: 125, a one-line error naming the path, no trace", () => {
  test("a missing source", async () => {
    expect(await refused({ mounts: [{ type: "bind", src: join(fix.path, "missing"), dst: "/mnt" }] })).toBe(
      `--bind ${fix.path}/missing:/mnt: source ${fix.path}/missing does not exist`,
    );
  });

  test("a relative or '..' destination", async () => {
    expect(await refused({ mounts: [{ type: "bind", src: fix.path, dst: "mnt" }] })).toContain(
      'destination "mnt" is not an absolute path',
    );
    expect(await refused({ mounts: [{ type: "tmpfs", dst: `${fix.path}/../x` }] })).toContain(
      'has a "." or ".." component',
    );
  });

  test("a tmpfs over /", async () => {
    expect(await refused({ mounts: [{ type: "tmpfs", dst: "/" }] })).toBe(
      "--tmpfs /: cannot mount over / (use --rootfs DIR to change the root)",
    );
  });

  test("a file bound over a directory, and a directory over a file", async () => {
    expect(await refused({ mounts: [{ type: "bind", src: join(fix.path, "file"), dst: "/usr" }] })).toBe(
      `--bind ${fix.path}/file:/usr: cannot mount the file ${fix.path}/file over the directory /usr`,
    );
    expect(await refused({ mounts: [{ type: "ro-bind", src: ws, dst: "/etc/hostname" }] })).toContain(
      "cannot mount the directory",
    );
  });

  test("a destination that does not exist in a writable host directory is not created", async () => {
    // (In a read-only one it is made in a tmpfs laid over it: fs-mountpoints.test.ts.)
    const dst = join(ws, "new", "dir");
    const wsBind = { type: "bind" as const, src: ws, dst: ws };
    expect(await refused({ mounts: [wsBind, { type: "bind", src: ws, dst }] })).toContain(
      `${dst} does not exist, and ${ws} is a writable host directory (a bind), where isolate creates nothing`,
    );
    expect(await refused({ mounts: [wsBind, { type: "dir", dst }] })).toContain("where isolate creates nothing");
    expect(existsSync(join(ws, "new"))).toBe(false);
  });

  test("an overlay upper dir or a rootfs that does not exist", async () => {
    expect(await refused({ mounts: [{ type: "overlay", dst: ws, upper: join(fix.path, "nope") }] })).toContain(
      "is not an existing directory",
    );
    expect(await refused({ rootfs: join(fix.path, "nope") })).toBe(`--rootfs ${fix.path}/nope: no such directory`);
    expect(await refused({ rootfs: ws })).toContain("it has no proc directory");
  });

  test("what only the kernel can tell comes back as the failing op", async () => {
    // /tmp/d is made inside the sandbox: no check before spawning can see it.
    const msg = await refused({
      mounts: [
        { type: "dir", dst: "/tmp/d" },
        { type: "bind", src: join(fix.path, "file"), dst: "/tmp/d" },
      ],
    });
    // As root the bind is idmapped (root runs mapped); the description says so.
    const how = IS_ROOT ? "read-write, idmapped: files keep their host owners" : "read-write";
    expect(msg).toBe(`setup: bind "${fix.path}/file" on "/tmp/d" (${how}): cannot mount a file over a directory`);
  });
});

// Remounting or unmounting from inside needs CAP_SYS_ADMIN: it can only fail
// for root once the sandbox drops its capabilities (the hardening issue).
const capEff = await sh("grep CapEff /proc/self/status");
const capsDropped = /CapEff:\s*0+\s*$/.test(capEff.stdout);

describe("the view cannot be undone from inside", () => {
  needs(capsDropped, "capabilities are not dropped in this sandbox")(
    "remount read-write, umount of a mask, a new mount: all fail",
    async () => {
      const r = await sh(UNDO_VIEW);
      expect(r.stdout).toBe("done\n");
    },
  );
});
