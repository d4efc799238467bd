/**
 * --net pasta's generated-files directory (/tmp/isolate-net-PID-XXXXXX): gone
 * once the command starts (pasta.test.ts checks it across a SIGKILL); what an
 * isolate killed before that leaves, `isolate clean` sweeps: only the
 * caller's own, named by isolate, of a dead pid, holding only the generated
 * files. Nothing is followed.
 */
import { afterAll, expect } from "bun:test";
import { chownSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { BIN, IS_ROOT, needs, sh } from "../../helpers/index.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A pid that was just used and is gone. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

function netDir(pid: number, suffix: string, files: Record<string, string>): string {
  const d = `/tmp/isolate-net-${pid}-${suffix}`;
  mkdirSync(d, { mode: 0o700 });
  made.push(d);
  for (const [name, body] of Object.entries(files)) writeFileSync(`${d}/${name}`, body);
  return d;
}

needs(IS_ROOT, "root (a directory owned by another uid)")(
  "isolate clean removes a dead isolate's directory and nothing else",
  async () => {
    const dead = await deadPid();
    const gone = netDir(dead, "Aa1Bb2", { "resolv.conf": "nameserver 169.254.0.53\n", hosts: "" });
    // A live pid's (this test's own), one with a stranger file, one with a link, another uid's: all kept.
    const live = netDir(process.pid, "Cc3Dd4", { "resolv.conf": "" });
    const extra = netDir(dead, "Ee5Ff6", { "resolv.conf": "", "other.txt": "" });
    const linked = netDir(dead, "Gg7Hh8", {});
    symlinkSync("/etc/passwd", `${linked}/hosts`);
    const theirs = netDir(dead, "Ii9Jj0", { "resolv.conf": "" });
    chownSync(theirs, 65534, 65534);

    const dry = await sh([BIN, "clean", "--dry-run"]);
    expect(dry.stdout).toContain(`would remove ${gone}\n`);
    expect(existsSync(gone)).toBe(true);

    const r = await sh([BIN, "clean"]);
    expect(r.stdout).toContain(`removed ${gone}\n`);
    expect(existsSync(gone)).toBe(false);
    for (const kept of [live, extra, linked, theirs]) {
      expect(r.stdout).not.toContain(kept);
      expect(existsSync(kept)).toBe(true);
    }
    expect(existsSync("/etc/passwd")).toBe(true);
  },
  30_000,
);
