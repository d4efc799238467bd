/**
 * isolate run by root of a user namespace other than the initial one: what
 * `unshare -Ur`, rootless podman/docker and Kubernetes pods with user
 * namespaces give. Entered by host root and by nobody; the sandbox works as
 * on the host, or fails with one line naming what the parent locks. Also:
 * user namespaces turned off (user.max_user_namespaces=0 set inside a user
 * namespace of the test's own: never the host's).
 */
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, IS_ROOT, NOBODY, needs, sh, tempDir } from "../helpers/index.ts";

const tmp = tempDir("isolate-hostcov-");
afterAll(() => tmp.remove());
chmodSync(tmp.path, 0o777);

const UNSHARE = existsSync("/usr/bin/unshare") || existsSync("/bin/unshare");
const canUserns = UNSHARE && (await sh(["unshare", "-Ur", "true"])).code === 0;
const asRoot = needs(IS_ROOT && canUserns, "needs root and unshare -Ur");

/** Root of a user namespace that maps 0 and 65534 to themselves (host root writes the maps). */
const WIDE = join(tmp.path, "wide.sh");
writeFileSync(
  WIDE,
  `#!/bin/sh
unshare -U sh -c 'until grep -q . /proc/self/gid_map; do sleep 0.01; done; exec "$@"' sh "$@" &
pid=$!
me=$(readlink /proc/self/ns/user)
i=0
while [ "$(readlink /proc/$pid/ns/user)" = "$me" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
map=\${ISOLATE_TEST_MAP:-'0 0 1\\n65534 65534 1\\n'}
printf "$map" > /proc/$pid/uid_map || kill $pid
printf "$map" > /proc/$pid/gid_map || kill $pid
wait $pid
`,
);
chmodSync(WIDE, 0o755);

const entries = [
  { who: "host root", pre: [] as string[] },
  { who: "nobody", pre: NOBODY },
];

for (const { who, pre } of entries) {
  describe(`as root of unshare -Ur, entered by ${who}`, () => {
    const inNs = (args: string[]) => sh([...pre, "unshare", "-Ur", BIN, ...args], { cwd: tmp.path });
    const t = needs(canUserns, "needs unshare -Ur");

    t(
      "the default sandbox: uid 0 inside, /dev with devpts, a fresh /proc, read-only root, no capabilities",
      async () => {
        const r = await inNs([
          "exec",
          "--",
          "sh",
          "-c",
          "id -u; test -c /dev/pts/ptmx && echo pts; test -c /dev/null && echo null; cat /proc/1/cmdline | tr '\\0' ' '; echo; " +
            "ls /proc | grep -c '^[0-9]'; touch /usr/.hostcov 2>/dev/null || echo ro; grep CapEff /proc/self/status",
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const lines = r.stdout.split("\n");
        expect(lines[0]).toBe("0");
        expect(lines).toContain("pts");
        expect(lines).toContain("null");
        expect(lines[3]).toStartWith("isolate-init");
        expect(Number(lines[4])).toBeLessThan(6);
        expect(lines).toContain("ro");
        expect(r.stdout).toContain("CapEff:\t0000000000000000");
      },
    );

    t("a pty can be opened on the private devpts", async () => {
      const r = await inNs(["exec", "--", "sh", "-c", "exec 3<>/dev/ptmx && ls /dev/pts"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("0");
    });

    t("--uid and --unshare user: a nested user namespace within the mapped ids", async () => {
      for (const flags of [
        ["--uid", "0"],
        ["--unshare", "user"],
        ["--uid", "0", "--gid", "0"],
      ]) {
        const r = await inNs(["exec", ...flags, "--", "id", "-u"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe("0");
      }
    });

    t("--user with an unmapped id: 125, naming the map and the remedy", async () => {
      const r = await inNs(["exec", "--user", "1000", "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^isolate: --user 1000: uid 1000 is not mapped in the user namespace isolate runs in/);
      expect(r.stderr).toContain("holds 0-0");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });

    t("--map-uid to an unmapped id: 125 before anything runs", async () => {
      const r = await inNs(["exec", "--map-uid", "0:1000:1", "--map-gid", "0:0:1", "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("--map-uid: uid 1000 is not mapped");
    });

    t("the view flags: --bind is writable, --tmpfs, --overlay, --ro-bind", async () => {
      const r = await inNs([
        "exec",
        "--bind",
        `${tmp.path}:/mnt`,
        "--tmpfs",
        "/srv",
        "--overlay",
        "/opt",
        "--ro-bind",
        "/etc:/media",
        "--",
        "sh",
        "-c",
        `echo x > /mnt/written-${pre.length} && touch /srv/a /opt/b && test -f /media/hostname && (touch /media/x 2>/dev/null || echo ro)`,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe("ro");
      expect(readFileSync(join(tmp.path, `written-${pre.length}`), "utf8")).toBe("x\n");
    });

    t("--hostname, --unshare time, --share net: as on the host", async () => {
      const r = await inNs(["exec", "--hostname", "box", "--unshare", "time", "--share", "net", "--", "hostname"]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe("box");
    });

    t("the sandbox cannot undo its view there either", async () => {
      const r = await inNs(["exec", "--", "sh", "-c", "mount -o remount,rw / 2>/dev/null || echo refused"]);
      expect(r.stdout.trim()).toBe("refused");
    });
  });
}

describe("limits in a user namespace", () => {
  asRoot("host root's unshare -Ur: the cgroups are writable (host root is mapped), --pids holds", async () => {
    const r = await sh([
      "unshare",
      "-Ur",
      BIN,
      "exec",
      "--pids",
      "8",
      "--json",
      "--",
      "sh",
      "-c",
      "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait",
    ]);
    const report = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
    expect(report.limits.applied.pids).toBe(8);
    expect(report.limits.pidsRefused).toBeGreaterThan(0);
  });

  needs(canUserns, "needs unshare -Ur")(
    "nobody's unshare -Ur: a limit cannot be enforced: 125 naming the parent that owns the cgroups",
    async () => {
      const r = await sh([...NOBODY, "unshare", "-Ur", BIN, "exec", "--memory", "64M", "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toStartWith("isolate: --memory: cannot be enforced");
      expect(r.stderr).toContain("isolate runs in a user namespace and the parent namespace owns");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    },
  );
});

describe("a wider map (0 and 65534)", () => {
  asRoot("--user 65534 works where 65534 is mapped", async () => {
    const r = await sh([WIDE, BIN, "exec", "--user", "65534", "--", "id", "-u"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("65534");
  });

  // The shape rootless podman gives (0 is the caller, 1..65535 a subordinate range), with the
  // maps written by host root directly: /etc/subuid (what unshare --map-auto needs) stays untouched.
  asRoot("a podman-like range (0, then 1..65535 elsewhere): --uid 1000 inside", async () => {
    const r = await sh([WIDE, BIN, "exec", "--uid", "1000", "--", "id", "-u"], {
      env: { ...process.env, ISOLATE_TEST_MAP: "0 0 1\n1 300001 65535\n" },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("1000");
  });
});

describe("user namespaces turned off: user.max_user_namespaces=0 in a user namespace of the test's own", () => {
  const MAX = "echo 0 > /proc/sys/user/max_user_namespaces";
  const expectKnob = (r: { code: number; stderr: string }) => {
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("user.max_user_namespaces is 0");
    expect(r.stderr).toContain("sysctl -w user.max_user_namespaces=");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  };

  needs(canUserns, "needs unshare -Ur")(
    "root there: a sandbox that needs a user namespace gets 125 with the knob",
    async () => {
      for (const pre of [[], NOBODY]) {
        const r = await sh([...pre, "unshare", "-Ur", "sh", "-c", `${MAX}; exec ${BIN} exec --unshare user -- true`]);
        expectKnob(r);
      }
    },
  );

  needs(canUserns, "needs unshare -Ur")("root there: the default sandbox needs none, and still runs", async () => {
    const r = await sh(["unshare", "-Ur", "sh", "-c", `${MAX}; exec ${BIN} exec -- true`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  asRoot("nobody there: 125 with the knob, and isolate check says the same", async () => {
    const run = await sh([WIDE, "sh", "-c", `${MAX}; exec ${NOBODY.join(" ")} ${BIN} exec -- true`]);
    expectKnob(run);
    const check = await sh([WIDE, "sh", "-c", `${MAX}; exec ${NOBODY.join(" ")} ${BIN} check --json`]);
    const j = JSON.parse(check.stdout);
    expect(j.ok).toBe(false);
    const unpriv = j.items.find((i: { id: string }) => i.id === "userns.unprivileged");
    expect(unpriv.ok).toBe(false);
    expect(unpriv.value).toContain("user.max_user_namespaces is 0");
    const nsUser = j.items.find((i: { id: string }) => i.id === "namespace.user");
    expect(nsUser.remedy).toContain("user.max_user_namespaces is 0");
    // exec and check name the same cause.
    const why = run.stderr.split("cannot create a user namespace: ")[1]?.split(" (")[0] ?? "";
    expect(why.length).toBeGreaterThan(10);
    expect(unpriv.value).toContain(why);
  });
});

describe("isolate check in a user namespace", () => {
  needs(canUserns, "needs unshare -Ur")(
    "says it runs in one, with its maps, and that the default sandbox works",
    async () => {
      const r = await sh(["unshare", "-Ur", BIN, "check", "--json"]);
      const j = JSON.parse(r.stdout);
      const own = j.items.find((i: { id: string }) => i.id === "userns.own");
      expect(own.value).toContain("isolate runs in a user namespace");
      expect(j.ok).toBe(true);
      const host = await sh([BIN, "check", "--json"]);
      const hostOwn = JSON.parse(host.stdout).items.find((i: { id: string }) => i.id === "userns.own");
      expect(hostOwn.value).toContain("initial");
    },
  );
});
