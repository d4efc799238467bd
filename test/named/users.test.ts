/** Another user can neither see, enter nor stop your named sandboxes (issue 10). */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IS_ROOT, marker, pidsWith, SCRATCH, sh } from "../helpers/index.ts";
import { CLEANUP_MS, nameFor, ps, TEST_MS, type User, user } from "../helpers/named.ts";

setDefaultTimeout(TEST_MS);

const root = IS_ROOT ? user(0) : undefined;
const nobody = IS_ROOT ? user(65534) : undefined;
const other = IS_ROOT ? user(65533) : undefined;
// Pointed at another user's directory, isolate falls back to the caller's default one: the test
// removes those it made.
const DEFAULTS = ["/run/isolate", "/tmp/isolate-65534", "/tmp/isolate-65533"].filter((d) => !existsSync(d));
afterAll(async () => {
  for (const u of [root, nobody, other]) await u?.cleanup();
  for (const d of DEFAULTS) rmSync(d, { recursive: true, force: true });
}, CLEANUP_MS);

async function cannotReach(owner: User, intruder: User, name: string): Promise<void> {
  expect((await ps(intruder)).map((e) => e.name)).not.toContain(name);
  const enter = await intruder.run(["enter", name, "--", "true"]);
  expect(enter.code).toBe(125);
  expect(enter.stderr).toContain("no such sandbox");
  const stop = await intruder.run(["stop", name]);
  expect(stop.code).toBe(125);
  const rm = await intruder.run(["rm", name]);
  expect(rm.code).toBe(125);
  const join = await intruder.run(["exec", "--join", `${name}:net`, "--", "true"]);
  expect(join.code).toBe(125);
  // pointed at the owner's state directory, it is refused (not the intruder's own, closed to it)
  const via = await intruder.run(["ps"], { env: { XDG_RUNTIME_DIR: join2(owner) } });
  expect(via.stdout).not.toContain(name);
  // and the sandbox still runs
  const [e] = (await ps(owner)).filter((x) => x.name === name);
  expect(e?.state).toBe("running");
}

const join2 = (u: User) => u.stateDir.replace(/\/isolate$/, "");

test.if(IS_ROOT)("nobody cannot see, enter or stop root's sandbox, nor root nobody's through isolate", async () => {
  const r = root as User;
  const n = nobody as User;
  const name = nameFor(r, "private");
  expect((await r.run(["exec", "--name", name, "--detach", "--", "sleep", "60"])).code).toBe(0);
  await cannotReach(r, n, name);
});

test.if(IS_ROOT)(
  "a state file of nobody's naming root's sandbox: enter, join and stop are refused by isolate",
  async () => {
    const r = root as User;
    const n = nobody as User;
    const name = nameFor(r, "target");
    expect((await r.run(["exec", "--name", name, "--detach", "--", "sleep", "60"])).code).toBe(0);
    // nobody's own state directory, holding a copy of root's state (its monitor, its init) and plan
    const forged = nameFor(n, "forged");
    mkdirSync(n.stateDir, { recursive: true, mode: 0o700 });
    chownSync(n.stateDir, 65534, 65534);
    const state = JSON.parse(readFileSync(join(r.stateDir, `${name}.json`), "utf8"));
    const files: [string, string | Buffer][] = [
      [`${forged}.json`, JSON.stringify({ ...state, name: forged, uid: 65534 })],
      [`${forged}.plan`, readFileSync(join(r.stateDir, `${name}.plan`))],
    ];
    for (const [f, data] of files) {
      writeFileSync(join(n.stateDir, f), data, { mode: 0o600 });
      chownSync(join(n.stateDir, f), 65534, 65534);
    }
    const tag = marker();
    const enter = await n.run(["enter", forged, "--", "sh", "-c", `: ${tag}; sleep 5`]);
    expect(enter.code).toBe(125);
    expect(enter.stderr).toContain("not running");
    expect((await pidsWith(tag)).length).toBe(0);
    const joined = await n.run(["exec", "--join", `${forged}:net`, "--", "sh", "-c", `: ${tag}; sleep 5`]);
    expect(joined.code).toBe(125);
    expect(joined.stderr).toContain("is not running");
    expect((await n.run(["stop", forged, "--signal", "KILL"])).code).toBe(125);
    const [e] = (await ps(r)).filter((x) => x.name === name);
    expect(e?.state).toBe("running");
    n.names.delete(forged);
    for (const [f] of files) rmSync(join(n.stateDir, f));
  },
);

test.if(IS_ROOT)("two unprivileged users (65534, 65533) cannot reach each other's sandboxes", async () => {
  const a = nobody as User;
  const b = other as User;
  const name = nameFor(a, "mine");
  expect((await a.run(["exec", "--name", name, "--detach", "--", "sleep", "60"])).code).toBe(0);
  await cannotReach(a, b, name);
  const nameB = nameFor(b, "theirs");
  expect((await b.run(["exec", "--name", nameB, "--detach", "--", "sleep", "60"])).code).toBe(0);
  await cannotReach(b, a, nameB);
});

test.if(IS_ROOT)("a state directory open to others, or not the caller's, is refused", async () => {
  const dir = join(SCRATCH, `named-open-${process.pid}`);
  mkdirSync(join(dir, "isolate"), { recursive: true });
  chmodSync(dir, 0o700);
  chownSync(dir, 65534, 65534);
  chmodSync(join(dir, "isolate"), 0o755);
  chownSync(join(dir, "isolate"), 65534, 65534);
  try {
    const r = await sh([join(import.meta.dir, "../../dist/isolate"), "ps"], {
      nobody: true,
      cwd: "/",
      env: { ...process.env, XDG_RUNTIME_DIR: dir },
    });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("open to other users");
    chmodSync(join(dir, "isolate"), 0o700);
    chownSync(join(dir, "isolate"), 0, 0);
    chownSync(dir, 0, 0);
    // root's directory: nobody's XDG_RUNTIME_DIR check fails (not its own), so it falls back to its own
    const r2 = await sh([join(import.meta.dir, "../../dist/isolate"), "ps"], {
      nobody: true,
      cwd: "/",
      env: { ...process.env, XDG_RUNTIME_DIR: dir, PATH: "/usr/bin:/bin" },
    });
    expect(r2.stderr).toBe("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
