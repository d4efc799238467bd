/**
 * Who the command is: as nobody (no setup at all) the caller's own ids or
 * --uid 0, with files landing on the host as nobody; as root --user, a host
 * identity; explicit maps and --userns auto (through newuidmap, as a
 * throwaway user with /etc/subuid entries); and the remedy when user
 * namespaces are switched off.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, IS_ROOT, isolate, needs, sh, tempDir } from "../../helpers/index.ts";

const asRoot = needs(IS_ROOT, "root (to run as nobody and as a throwaway user)");

/** A temp dir owned by uid:gid, for files the sandbox creates. */
function ownedDir(uid: number, gid: number) {
  const t = tempDir("isolate-id-");
  chmodSync(t.path, 0o755);
  chownSync(t.path, uid, gid);
  return t;
}

describe("as nobody", () => {
  asRoot("the default sandbox works, as the caller's own ids", async () => {
    const r = await isolate(
      ["exec", "--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map; hostname; ls /proc | grep -c '^[0-9]'"],
      { nobody: true },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [uid, gid, map, , procs] = r.stdout.trim().split("\n");
    expect([uid, gid]).toEqual(["65534", "65534"]);
    expect(map?.trim().split(/\s+/)).toEqual(["65534", "65534", "1"]);
    expect(Number(procs)).toBeLessThanOrEqual(4);
  });

  asRoot("--uid 0 is root inside; files it makes belong to nobody on the host", async () => {
    const d = ownedDir(65534, 65534);
    try {
      const r = await isolate(
        ["exec", "--uid", "0", "--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map; echo hi > made-inside"],
        { nobody: true, cwd: d.path },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const [uid, gid, map] = r.stdout.trim().split("\n");
      expect([uid, gid]).toEqual(["0", "0"]);
      expect(map?.trim().split(/\s+/)).toEqual(["0", "65534", "1"]);
      const st = statSync(join(d.path, "made-inside"));
      expect([st.uid, st.gid]).toEqual([65534, 65534]);
    } finally {
      d.remove();
    }
  });

  asRoot("--uid/--gid pick other ids inside", async () => {
    const r = await isolate(["exec", "--uid", "1000", "--gid", "1001", "--", "sh", "-c", "id -u; id -g"], {
      nobody: true,
    });
    expect(r.stdout.trim().split("\n")).toEqual(["1000", "1001"]);
  });

  asRoot("--user is refused without root, before anything starts", async () => {
    const r = await isolate(["exec", "--user", "1000", "--", "true"], { nobody: true });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^isolate: --user needs root .*use --uid\/--gid/);
  });
});

describe("as root", () => {
  asRoot("--user UID:GID runs as that host identity with GID its only group", async () => {
    const d = ownedDir(1000, 1000);
    try {
      const r = await isolate(["exec", "--user", "1000:1000", "--", "sh", "-c", "id -u; id -g; id -G; touch f"], {
        cwd: d.path,
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n")).toEqual(["1000", "1000", "1000"]);
      const st = statSync(join(d.path, "f"));
      expect([st.uid, st.gid]).toEqual([1000, 1000]);
    } finally {
      d.remove();
    }
  });

  asRoot("explicit --map-uid/--map-gid, written directly", async () => {
    const d = ownedDir(100005, 100005);
    try {
      const r = await isolate(
        [
          "exec",
          "--map-uid",
          "0:100000:100",
          "--map-gid",
          "0:100000:100",
          "--uid",
          "5",
          "--",
          "sh",
          "-c",
          "id -u; cat /proc/self/uid_map; touch f",
        ],
        { cwd: d.path },
      );
      expect(r.stderr).toBe("");
      const [uid, map] = r.stdout.trim().split("\n");
      expect(uid).toBe("5");
      expect(map?.trim().split(/\s+/)).toEqual(["0", "100000", "100"]);
      expect(statSync(join(d.path, "f")).uid).toBe(100005);
    } finally {
      d.remove();
    }
  });
});

describe("--userns auto, as a throwaway user with /etc/subuid entries", () => {
  const name = `isot${process.pid % 100000}`;
  const start = 3_000_000 + (process.pid % 1000) * 65536;
  let saved: { subuid: string; subgid: string } | undefined;
  let uid = -1;
  let gid = -1;
  const read = (f: string) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return "";
    }
  };
  const haveTools = IS_ROOT && Bun.which("useradd") !== null && Bun.which("newuidmap") !== null;

  beforeAll(async () => {
    if (!haveTools) return;
    saved = { subuid: read("/etc/subuid"), subgid: read("/etc/subgid") };
    await sh(["userdel", name]); // a leftover of an interrupted run, if any
    const r = await sh(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name]);
    if (r.code !== 0) throw new Error(`useradd: ${r.stderr}`);
    const id = await sh(["id", "-u", name]);
    const g = await sh(["id", "-g", name]);
    uid = Number(id.stdout.trim());
    gid = Number(g.stdout.trim());
    const nl = (s: string) => (s === "" || s.endsWith("\n") ? s : `${s}\n`);
    writeFileSync("/etc/subuid", `${nl(saved.subuid)}${name}:${start}:65536\n`);
    writeFileSync("/etc/subgid", `${nl(saved.subgid)}${name}:${start}:65536\n`);
  });
  afterAll(async () => {
    if (!haveTools) return;
    if (saved) {
      writeFileSync("/etc/subuid", saved.subuid);
      writeFileSync("/etc/subgid", saved.subgid);
    }
    await sh(["userdel", name]);
  });
  const asUser = (args: string[], cwd?: string) =>
    sh(["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", BIN, ...args], cwd ? { cwd } : {});

  needs(haveTools, "root, useradd and newuidmap (uidmap)")("maps the subordinate range around the caller", async () => {
    const r = await asUser([
      "exec",
      "--userns",
      "auto",
      "--uid",
      "0",
      "--",
      "sh",
      "-c",
      "cat /proc/self/uid_map; echo; cat /proc/self/gid_map; id -u; grep Groups /proc/self/status",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [uidMap, gidMap] = r.stdout.split("\n\n");
    const lines = (s: string | undefined) =>
      (s ?? "")
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s+/).map(Number));
    expect(lines(uidMap)).toEqual([
      [0, uid, 1],
      [1, start, 65536],
    ]);
    expect(lines(gidMap).slice(0, 2)).toEqual([
      [0, gid, 1],
      [1, start, 65536],
    ]);
    // setgroups is allowed with a subordinate range: the command's only group is its gid.
    expect(r.stdout).toMatch(/Groups:\s+0\s*$/m);
    // Without --uid the caller keeps its own id inside, the range around it.
    const own = await asUser(["exec", "--userns", "auto", "--", "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    const ownLines = own.stdout.trim().split("\n");
    expect(ownLines[0]).toBe(String(uid));
    expect(ownLines.length).toBe(4);
  });

  needs(haveTools, "root, useradd and newuidmap (uidmap)")(
    "--map-uid through newuidmap: allowed ranges pass, others are refused",
    async () => {
      const ok = await asUser([
        "exec",
        "--map-uid",
        `0:${uid}:1`,
        "--map-uid",
        `1:${start}:10`,
        "--uid",
        "0",
        "--",
        "cat",
        "/proc/self/uid_map",
      ]);
      expect(ok.code).toBe(0);
      expect(ok.stdout.trim().split("\n").length).toBe(2);
      const bad = await asUser([
        "exec",
        "--map-uid",
        `0:${uid}:1`,
        "--map-uid",
        "1:5000:10",
        "--uid",
        "0",
        "--",
        "true",
      ]);
      expect(bad.code).toBe(125);
      expect(bad.stderr).toMatch(
        /^isolate: user namespace: newuidmap refused the map: .*\(check the ranges in \/etc\/subuid\)/,
      );
    },
  );

  needs(haveTools, "root and useradd")(
    "without an entry, --userns auto says which file and how to add one",
    async () => {
      const r = await isolate(["exec", "--userns", "auto", "--", "true"], { nobody: true });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(
        /^isolate: --userns auto: \/etc\/subuid has no range for nobody \(add one, e\.g\. usermod --add-subuids/,
      );
    },
  );
});

describe("where user namespaces are switched off", () => {
  asRoot("user.max_user_namespaces=0: a nobody run prints the knob and the remedy, exit 125", async () => {
    // A test user namespace (made by isolate, keeping its capabilities there)
    // where the limit is 0; nobody runs isolate inside it.
    const script = [
      "echo 0 > /proc/sys/user/max_user_namespaces || exit 3",
      `setpriv --reuid=65534 --regid=65534 --clear-groups ${BIN} exec -- true; echo "rc=$?"`,
    ].join("; ");
    // --share mount: the default view makes /proc/sys read-only, and this
    // test writes its own namespace's limit there (which Landlock refuses too).
    const r = await isolate([
      "exec",
      "--share",
      "mount",
      "--landlock",
      "off",
      "--map-uid",
      "0:0:1",
      "--map-uid",
      "65534:65534:1",
      "--map-gid",
      "0:0:1",
      "--map-gid",
      "65534:65534:1",
      "--uid",
      "0",
      "--cap-add",
      "ALL",
      "--seccomp",
      "none",
      "--",
      "sh",
      "-c",
      script,
    ]);
    expect(r.stdout.trim()).toBe("rc=125");
    expect(r.stderr).toMatch(
      /^isolate: spawn: cannot create a user namespace: user namespaces are disabled here \(user.max_user_namespaces is 0 in the user namespace isolate runs in, or in a parent of it\) \(.*sysctl -w user.max_user_namespaces=\d+/,
    );
    // The host's own limit is untouched.
    expect(Number(readFileSync("/proc/sys/user/max_user_namespaces", "utf8"))).toBeGreaterThan(0);
  });
});
