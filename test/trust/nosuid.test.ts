/**
 * No setuid, setgid or file-capability file is created on a writable host
 * mount, in every mode (issue 9), and a tracer's skipped call is not killed as
 * a foreign ABI (issue 8). Each route is tried with the real tools and with a
 * raw-syscall probe (fixtures/setid.c); then the host is checked with
 * `find -perm /6000` and `getcap -r`. Ordinary modes keep working.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { type Built, buildFixtures, HAVE_GCC, probeResults } from "../helpers/harden.ts";
import { BIN, IS_ROOT, isolate, needs, type RunOpts, sh, tempDir } from "../helpers/index.ts";

const EPERM = 1;
const ENOSYS = 38;
const NOBODY = 65534;
const HAVE_TOOLS = ["setcap", "getcap", "setfattr", "tar", "install", "python3"].every((t) => Bun.which(t) !== null);
const HAVE_STRACE = Bun.which("strace") !== null;
const PY = Bun.which("python3", { PATH: "/usr/bin:/bin" }) ?? "python3";

let built: Built;
beforeAll(async () => {
  if (HAVE_GCC) built = await buildFixtures(["setid"]);
});
afterAll(() => built?.remove());

/**
 * Host-side inputs the sandbox reads, owned by `owner` (cp -p and tar -p keep
 * the set-id bits only where they can keep the owner): a setuid file and a tar
 * with a setuid-setgid entry.
 */
async function inputs(owner: number): Promise<{ path: string; remove: () => void }> {
  const t = tempDir("isolate-nosuid-in-");
  chmodSync(t.path, 0o755);
  copyFileSync("/usr/bin/id", join(t.path, "suid"));
  chownSync(join(t.path, "suid"), owner, owner);
  chmodSync(join(t.path, "suid"), 0o4755);
  const r = await sh(["tar", "-C", t.path, "--mode=6755", "-cf", join(t.path, "suid.tar"), "suid"]);
  if (r.code !== 0) throw new Error(r.stderr);
  chmodSync(join(t.path, "suid.tar"), 0o644);
  return t;
}

/** The tools' routes; each line "name exit-code". */
function toolScript(input: string): string {
  const cap = "0x0100000280000000000000000000000000000000"; // VFS_CAP_REVISION_2, CAP_SETUID (bit 7) permitted+effective
  return [
    'r() { n=$1; shift; "$@" >/dev/null 2>&1; echo "$n $?"; }',
    "cp /usr/bin/id ./id",
    "r chmod-6755 chmod 6755 ./id",
    "r chmod-u+s chmod u+s ./id",
    "r chmod-g+s chmod g+s ./id",
    `r cp-p cp -p ${input}/suid ./cpp`,
    "r install-4755 install -m 4755 /usr/bin/id ./inst",
    `r tar-p tar -xpf ${input}/suid.tar`,
    `r py-open ${PY} -c 'import os; os.open("py-open", os.O_CREAT | os.O_WRONLY, 0o4755)'`,
    `r py-mknod ${PY} -c 'import os, stat; os.mknod("py-mknod", stat.S_IFREG | 0o2755)'`,
    "r setcap setcap cap_setuid+ep ./id",
    `r setfattr setfattr -n security.capability -v ${cap} ./id`,
    // What must keep working.
    "touch ok; r ok:chmod-644 chmod 644 ok",
    "r ok:chmod-755 chmod 0755 ok",
    "r ok:chmod-u+x chmod u+x ok",
    "mkdir okd; r ok:chmod-1777 chmod 1777 okd",
    "r ok:install-755 install -m 755 /usr/bin/id ./inst2",
    "r ok:cp-p cp -p ok ./okcp",
    "true",
  ].join("\n");
}

/** What the host sees in `dir`: setuid/setgid files and file capabilities. */
async function hostView(dir: string): Promise<{ setid: string; caps: string }> {
  const f = await sh(["find", dir, "-perm", "/6000"]);
  const g = await sh(["getcap", "-r", dir]);
  return { setid: f.stdout.trim(), caps: g.stdout.trim() };
}

interface Mode {
  name: string;
  args: string[];
  owner: number;
  opts: RunOpts;
}

const MODES: Mode[] = [
  { name: "root", args: [], owner: 0, opts: {} },
  { name: "root --user 65534", args: ["--user", "65534"], owner: NOBODY, opts: {} },
  // Host root (--userns host): without a view, root mapped cannot write root's cwd at all.
  { name: "root --userns host --share mount", args: ["--userns", "host", "--share", "mount"], owner: 0, opts: {} },
  { name: "root --share user --unshare time", args: ["--share", "user", "--unshare", "time"], owner: 0, opts: {} },
  { name: "root --uid 0 (a user namespace)", args: ["--uid", "0"], owner: 0, opts: {} },
  { name: "nobody", args: [], owner: NOBODY, opts: { nobody: true } },
  { name: "nobody --uid 0", args: ["--uid", "0"], owner: NOBODY, opts: { nobody: true } },
];

function workDir(owner: number): { path: string; remove: () => void } {
  const w = tempDir("isolate-nosuid-w-");
  chmodSync(w.path, 0o755);
  chownSync(w.path, owner, owner);
  return w;
}

const tools = needs(IS_ROOT && HAVE_TOOLS, "root, setcap/getcap (libcap2-bin), setfattr (attr), tar, install, python3");
const probes = needs(IS_ROOT && HAVE_GCC, "root and gcc");

describe("no setuid, setgid or file-capability file lands on the host", () => {
  for (const mode of MODES) {
    tools(
      `${mode.name}: chmod, cp -p, install -m, tar -p, python, setcap, setfattr all fail; find/getcap see nothing`,
      async () => {
        const w = workDir(mode.owner);
        const input = await inputs(mode.owner);
        try {
          const r = await isolate(["exec", ...mode.args, "--", "sh", "-c", toolScript(input.path)], {
            ...mode.opts,
            cwd: w.path,
          });
          // --userns host's own warning aside.
          expect(r.stderr.replace(/^isolate: warning: --userns host: .*\n/, "")).toBe("");
          const m = probeResults(r.stdout);
          for (const [name, code] of m) {
            if (name.startsWith("ok:")) expect([name, code]).toEqual([name, 0]);
            else expect([name, code === 0 ? "succeeded" : "failed"]).toEqual([name, "failed"]);
          }
          expect(m.size).toBe(16);
          expect(await hostView(w.path)).toEqual({ setid: "", caps: "" });
          // The tools did write their files: only the bits are missing.
          const files = (await sh(["ls", w.path])).stdout.split("\n");
          expect(files.filter((f) => ["cpp", "inst", "suid"].includes(f))).toEqual(["cpp", "inst", "suid"]);
        } finally {
          w.remove();
          input.remove();
        }
      },
    );

    probes(`${mode.name}: every syscall route (raw) is refused with EPERM, openat2 with ENOSYS`, async () => {
      const w = workDir(mode.owner);
      try {
        const r = await isolate(["exec", ...mode.args, "--", built.path("setid")], { ...mode.opts, cwd: w.path });
        expect(r.code).toBe(0);
        const m = probeResults(r.stdout);
        const routes = ["chmod", "fchmod", "fchmod-highword", "fchmodat", "fchmodat2", "open", "openat", "creat"];
        for (const n of [...routes, "tmpfile", "mknod", "mknodat"]) expect([n, m.get(n)]).toEqual([n, EPERM]);
        expect(m.get("openat2")).toBe(ENOSYS);
        // No capability: the kernel refuses security.capability.
        for (const n of ["setxattr", "lsetxattr", "fsetxattr"]) expect([n, m.get(n)]).toEqual([n, EPERM]);
        for (const [n, e] of m) if (n.startsWith("ok:")) expect([n, e]).toEqual([n, 0]);
        expect(await hostView(w.path)).toEqual({ setid: "", caps: "" });
      } finally {
        w.remove();
      }
    });
  }

  probes("root --cap-add SETFCAP (and ALL): every xattr write is refused, so no file capability lands", async () => {
    for (const caps of ["SETFCAP", "ALL"]) {
      const w = workDir(0);
      try {
        const r = await isolate(["exec", "--cap-add", caps, "--", built.path("setid")], { cwd: w.path });
        const m = probeResults(r.stdout);
        for (const n of ["setxattr", "lsetxattr", "fsetxattr", "chmod", "openat"])
          expect([caps, n, m.get(n)]).toEqual([caps, n, EPERM]);
        expect(await hostView(w.path)).toEqual({ setid: "", caps: "" });
      } finally {
        w.remove();
      }
    }
  });

  probes("the probe can fail: with --seccomp none as root every route works (the filter is what refuses)", async () => {
    const w = workDir(0);
    try {
      const r = await isolate(["exec", "--seccomp", "none", "--cap-add", "SETFCAP", "--", built.path("setid")], {
        cwd: w.path,
      });
      const m = probeResults(r.stdout);
      for (const n of ["chmod", "fchmodat2", "openat", "mknod", "openat2", "setxattr"])
        expect([n, m.get(n)]).toEqual([n, 0]);
      const seen = await hostView(w.path);
      expect(seen.setid).toContain("f-chmod");
      expect(seen.caps).toContain("f-xattr");
    } finally {
      w.remove();
    }
  });
});

/**
 * strace's fault injection skips the call (its number becomes -1) and sets the
 * error itself; the filter must let -1 through, not kill it as an x32 call.
 */
describe("tracers keep working", () => {
  const strace = needs(HAVE_STRACE, "strace");
  const traced = (argv: string[], opts: RunOpts = {}) =>
    sh(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "inject=openat:error=EPERM:when=1", ...argv], opts);

  strace(
    "strace -f -e inject=openat:error=EPERM:when=1 isolate exec -- true ends as it does without isolate",
    async () => {
      const plain = await traced(["true"]);
      const boxed = await traced([BIN, "exec", "--", "true"]);
      expect(boxed.code).toBe(plain.code);
      expect(boxed.code).not.toBe(128 + 31);
      expect(boxed.stderr).not.toContain("Bad system call");
    },
  );

  strace("the injected error reaches the command inside (not SIGSYS), also as nobody", async () => {
    // isolate itself never calls getpriority; nice(1) does, and reports the error.
    const argv = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "inject=getpriority:error=EACCES"];
    for (const nobody of IS_ROOT ? [false, true] : [false]) {
      const plain = await sh([...argv, "nice"], { nobody });
      const boxed = await sh([...argv, BIN, "exec", "--", "nice"], { nobody });
      expect(plain.stderr).toContain("Permission denied");
      expect([nobody, boxed.code, boxed.stderr]).toEqual([nobody, plain.code, plain.stderr]);
    }
  });
});
