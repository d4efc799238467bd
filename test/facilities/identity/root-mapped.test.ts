/**
 * Root is not host root: run as root with no identity flag, the command is
 * uid 0 of its own user namespace, mapped to an unprivileged host range, and
 * its writable binds are idmapped so that what it makes still belongs to root.
 * `--userns host` keeps the old behaviour, with a warning.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSpec } from "../../../src/config/parse.ts";
import { probeHost } from "../../../src/host/probe.ts";
import { resolveSandbox } from "../../../src/plan/resolve.ts";
import { BIN, IS_ROOT, isolate, needs, probe, sh, tempDir, waitFor } from "../../helpers/index.ts";

const asRoot = needs(IS_ROOT && probeHost().initialUserNs, "root in the initial user namespace");
const WARNING = /^isolate: warning: --userns host: the command runs as host root/;

/** The host uid root's default sandbox runs as (root's /etc/subuid range, else the fixed one). */
const mappedUid = () => resolveSandbox(parseSpec({ command: ["true"] }), probeHost()).identity.hostUid;

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir("root-mapped-");
  // Searchable by the sandbox's root, which is not host root.
  chmodSync(dir.path, 0o755);
});
afterAll(() => dir?.remove());

describe("root runs mapped by default", () => {
  asRoot("/etc/shadow is refused; --userns host reads it and warns in one line", async () => {
    // Unmasked: masked (the default), it would read empty whoever the command is.
    const r = await isolate(["exec", "--unmask", "/etc/shadow", "--", "cat", "/etc/shadow"], { cwd: dir.path });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Permission denied");
    const h = await isolate(
      ["exec", "--userns", "host", "--unmask", "/etc/shadow", "--", "sh", "-c", "cat /etc/shadow >/dev/null && id -u"],
      {
        cwd: dir.path,
      },
    );
    expect([h.code, h.stdout]).toEqual([0, "0\n"]);
    expect(h.stderr).toMatch(WARNING);
    expect(h.stderr.trimEnd().split("\n")).toHaveLength(1);
    const s = await isolate(["exec", "--share", "user", "--", "true"], { cwd: dir.path });
    expect(s.stderr).toBe("");
  });

  asRoot("id -u is 0 inside; the host sees the mapped uid", async () => {
    const r = await isolate(["exec", "--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map"], { cwd: dir.path });
    expect(r.code).toBe(0);
    const [uid, gid, map] = r.stdout.split("\n");
    expect([uid, gid]).toEqual(["0", "0"]);
    expect(map?.trim().split(/\s+/)).toEqual(["0", String(mappedUid()), "65536"]);
    expect(r.stderr).toBe("");

    const p = Bun.spawn([BIN, "exec", "--", "sleep", "30"], { cwd: dir.path, stdout: "ignore", stderr: "pipe" });
    try {
      const children = (pid: number) => {
        const out: number[] = [];
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
          if (kids) out.push(...kids.split(" ").map(Number));
        }
        return out;
      };
      const command = await waitFor(() => {
        try {
          const init = children(p.pid)[0];
          return init === undefined ? undefined : children(init)[0];
        } catch {
          return undefined;
        }
      });
      expect(command).toBeGreaterThan(0);
      const status = await waitFor(() => {
        const s = readFileSync(`/proc/${command}/status`, "utf8");
        return s.includes("NoNewPrivs:\t1") ? s : undefined;
      });
      const uids = status?.match(/^Uid:\s+(.*)$/m)?.[1]?.split(/\s+/);
      expect(uids).toEqual(Array(4).fill(String(mappedUid())));
      expect(mappedUid()).toBeGreaterThan(65535);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
  });

  asRoot("files made in the cwd and in a --bind belong to root on the host; --uid N makes them N's", async () => {
    const cwd = join(dir.path, "cwd");
    const bound = join(dir.path, "bound");
    mkdirSync(cwd);
    mkdirSync(bound);
    const r = await isolate(
      ["exec", "--bind", bound, "--", "sh", "-c", `echo x > made && mkdir d && touch d/f ${bound}/g`],
      { cwd },
    );
    expect([r.code, r.stderr]).toEqual([0, ""]);
    for (const p of [join(cwd, "made"), join(cwd, "d"), join(cwd, "d/f"), join(bound, "g")]) {
      const st = statSync(p);
      expect([p, st.uid, st.gid]).toEqual([p, 0, 0]);
    }
    chmodSync(cwd, 0o777);
    const w = await isolate(["exec", "--uid", "1000", "--gid", "1000", "--", "touch", "by1000"], { cwd });
    expect([w.code, w.stderr]).toEqual([0, ""]);
    const st = statSync(join(cwd, "by1000"));
    expect([st.uid, st.gid]).toEqual([1000, 1000]);
  });

  asRoot("a root-owned 0600 file in the cwd is root's inside: readable and writable", async () => {
    const cwd = join(dir.path, "secret");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "s"), "one\n");
    chmodSync(join(cwd, "s"), 0o600);
    const r = await isolate(["exec", "--", "sh", "-c", "cat s && echo two >> s && stat -c '%u %g %a' s"], { cwd });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "one\n0 0 600\n", ""]);
    expect(readFileSync(join(cwd, "s"), "utf8")).toBe("one\ntwo\n");
    // A read-only bind is not idmapped: root's 0600 file there stays out of reach,
    // though its source lies under a 0700 dir of root's (the supervisor resolves it).
    const hidden = join(dir.path, "hidden");
    mkdirSync(join(hidden, "in"), { recursive: true });
    chmodSync(hidden, 0o700);
    writeFileSync(join(hidden, "in", "s"), "x\n");
    chmodSync(join(hidden, "in", "s"), 0o600);
    const ro = await isolate(
      ["exec", "--ro-bind", `${hidden}/in:/tmp/in`, "--", "sh", "-c", "ls /tmp/in; cat /tmp/in/s"],
      {
        cwd,
      },
    );
    expect([ro.code, ro.stdout]).toEqual([1, "s\n"]);
    expect(ro.stderr).toContain("Permission denied");
    // Root's files outside the binds are nobody's inside.
    const o = await isolate(["exec", "--unmask", "/etc/shadow", "--", "stat", "-c", "%u %g", "/etc/shadow"], { cwd });
    expect(o.stdout).toBe("65534 65534\n");
  });

  asRoot("a root-only 0600 unix socket in a read-only bind is refused with EACCES", async () => {
    const client = await probe("unix-connect");
    const sockDir = join(dir.path, "sock");
    mkdirSync(sockDir);
    const path = join(sockDir, "s");
    const server = Bun.listen({
      unix: path,
      socket: {
        data() {},
        open(s) {
          s.end();
        },
      },
    });
    try {
      chmodSync(path, 0o600);
      const mapped = await isolate(["exec", "--ro-bind", `${sockDir}:/tmp/sock`, "--", client, "/tmp/sock/s"], {
        cwd: dir.path,
      });
      expect([mapped.code, mapped.stdout]).toEqual([0, "EACCES 13\n"]);
      // As host root the same connect goes through: the refusal is the identity's doing.
      const host = await isolate(
        ["exec", "--userns", "host", "--ro-bind", `${sockDir}:/tmp/sock`, "--", client, "/tmp/sock/s"],
        { cwd: dir.path },
      );
      expect([host.code, host.stdout]).toEqual([0, "connected\n"]);
    } finally {
      server.stop(true);
    }
  });

  asRoot(
    "--share mount: a /proc/sys write is refused (the same value is written back, so the host never changes)",
    async () => {
      const knob = "/proc/sys/kernel/printk_ratelimit";
      const before = readFileSync(knob, "utf8");
      const script = `v=$(cat ${knob}) && echo "$v" > ${knob} && echo wrote`;
      // Landlock off: it would refuse the write too; here the identity alone must.
      const r = await isolate(["exec", "--landlock", "off", "--share", "mount", "--", "sh", "-c", script], {
        cwd: dir.path,
      });
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("Permission denied");
      const h = await isolate(
        ["exec", "--userns", "host", "--landlock", "off", "--share", "mount", "--", "sh", "-c", script],
        {
          cwd: dir.path,
        },
      );
      expect([h.code, h.stdout]).toEqual([0, "wrote\n"]);
      expect(readFileSync(knob, "utf8")).toBe(before);
    },
  );

  asRoot("--user keeps working: a host identity, no user namespace", async () => {
    const r = await isolate(["exec", "--user", "65534", "--", "sh", "-c", "id -u; cat /proc/self/uid_map"], {
      cwd: dir.path,
    });
    expect(r.code).toBe(0);
    const [uid, map] = r.stdout.split("\n");
    expect(uid).toBe("65534");
    expect(map?.trim().split(/\s+/)).toEqual(["0", "0", "4294967295"]);
    expect(r.stderr).toBe("");
  });

  asRoot("isolate plan shows the maps and which binds are idmapped", async () => {
    const r = await isolate(["plan", "--", "true"], { cwd: dir.path });
    expect(r.code).toBe(0);
    const base = mappedUid();
    expect(r.stdout).toContain(`identity: uid 0 gid 0 inside, host uid ${base} (root mapped to an unprivileged range`);
    expect(r.stdout).toContain(`uid map: 0 ${base} 65536`);
    expect(r.stdout).toContain(`idmapped: ${dir.path}`);
    expect(r.stdout).toContain(`bind "${dir.path}" on "${dir.path}" (read-write, idmapped`);
    const j = JSON.parse((await isolate(["plan", "--json", "--", "true"], { cwd: dir.path })).stdout);
    expect(j.identity).toMatchObject({ mappedRoot: true, hostUid: base, idmapped: [dir.path] });
    const h = await isolate(["plan", "--userns", "host", "--", "true"], { cwd: dir.path });
    expect(h.stdout).toContain("identity: uid 0 gid 0: host root (without capabilities)");
    expect(h.stdout).not.toContain("idmapped");
  });

  asRoot("a filesystem without idmapped mounts fails closed, naming the remedy; --userns host runs there", async () => {
    const mnt = join(dir.path, "ramfs");
    mkdirSync(mnt);
    // A private mount namespace of our own: the ramfs goes away with it.
    const script = [
      `mount -t ramfs isolate-test ${mnt} || exit 99`,
      `cd ${mnt}`,
      `${BIN} exec -- touch made; echo "default=$?"`,
      `${BIN} exec --userns host -- touch made 2>/dev/null; echo "host=$?"`,
      `${BIN} exec --ro-cwd -- true; echo "ro=$?"`,
    ].join("\n");
    const r = await sh(["unshare", "-m", "--propagation", "private", "sh", "-c", script]);
    expect(r.stdout).toBe("default=125\nhost=0\nro=0\n");
    expect(r.stderr).toMatch(
      /^isolate: bind of ".*\/ramfs": root runs mapped, and the bind cannot be idmapped: its filesystem .* does not support idmapped mounts .*--userns host/m,
    );
    expect(r.stderr.split("\n").filter((l) => l.startsWith("isolate: bind of"))).toHaveLength(1);
  });
});
