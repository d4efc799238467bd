/** --profile FILE|NAME: Spec fields from TOML or JSON, merged with the flags; the shipped examples run. */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mergeFields, tomlLine } from "../../src/cli/profile.ts";
import { isolate, ROOT, tempDir } from "../helpers/index.ts";

const dir = tempDir("isolate-profile-");
afterAll(() => dir.remove());

const file = (name: string, text: string) => {
  const p = join(dir.path, name);
  writeFileSync(p, text);
  return p;
};

async function plan(args: string[], env: Record<string, string | undefined> = {}) {
  const r = await isolate(["plan", "--json", ...args], { cwd: dir.path, env: { ...process.env, ...env } });
  return { ...r, plan: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

describe("merging", () => {
  test("lists append, limits merge key by key, scalars are overridden by flags", async () => {
    const p = file(
      "base.toml",
      `hostname = "base"\nshare = ["net"]\n[env]\nA = "1"\n[limits]\nmemory = "1G"\npids = 50\nrlimits = ["nofile=64"]\n[[mounts]]\ntype = "tmpfs"\ndst = "/opt"\n`,
    );
    const r = await plan([
      "--profile",
      p,
      "--hostname",
      "flag",
      "--memory",
      "2G",
      "--rlimit",
      "core=0",
      "--env",
      "B=2",
      "--tmpfs",
      "/srv",
      "--",
      "true",
    ]);
    expect(r.stderr).toBe("");
    const s = r.plan.spec;
    expect(r.plan.profiles).toEqual([p]);
    expect(s.hostname).toBe("flag");
    expect(s.namespaces.net).toBe(false);
    expect(s.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
    expect(s.limits.memory).toBe(2 * 1024 ** 3);
    expect(s.limits.pids).toBe(50);
    expect(s.limits.rlimits.map((l: { name: string }) => l.name)).toEqual(["nofile", "core"]);
    expect(s.mounts.map((m: { dst: string }) => m.dst)).toEqual(["/opt", "/srv"]);
  });

  test("several profiles apply in order; the command line's command replaces the profile's", async () => {
    const a = file("a.json", JSON.stringify({ hostname: "a", command: ["false"], limits: { memory: "1G" } }));
    const b = file("b.toml", `hostname = "b"\n[limits]\ncpus = 1\n`);
    const r = await plan(["--profile", a, "--profile", b, "--", "true"]);
    expect(r.plan.spec.hostname).toBe("b");
    expect(r.plan.spec.command).toEqual(["true"]);
    expect(r.plan.spec.limits.memory).toBe(1024 ** 3);
    expect(r.plan.spec.limits.cpus).toBe(1);
    const own = await plan(["--profile", a]);
    expect(own.plan.spec.command).toEqual(["false"]);
  });

  test("mergeFields", () => {
    expect(
      mergeFields(
        { share: ["net"], limits: { memory: 1, rlimits: ["a"] }, command: ["x"] },
        {
          share: ["ipc"],
          limits: { rlimits: ["b"] },
          command: [],
        },
      ),
    ).toEqual({ share: ["net", "ipc"], limits: { memory: 1, rlimits: ["a", "b"] }, command: ["x"] });
  });

  test("the text plan names the profile", async () => {
    const p = file("named.toml", `hostname = "n"\n`);
    const r = await isolate(["plan", "--profile", p, "--", "true"], { cwd: dir.path });
    expect(r.stdout.split("\n")[0]).toBe(`profile: ${p}`);
  });
});

describe("errors name the file, the line, the field and its flag", () => {
  test("a bad value", async () => {
    const p = file("bad.toml", `hostname = "x"\n\n[limits]\nmemory = "1G"\npids = "lots"\n`);
    const r = await plan(["--profile", p, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `isolate: --profile ${p}:5: limits.pids "lots": "lots" is not a whole number (the field --pids sets)\n`,
    );
  });

  test("an unknown field, with the closest one", async () => {
    const p = file("typo.toml", `hostname = "x"\n[limits]\nmemroy = "1G"\n`);
    const r = await plan(["--profile", p, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`isolate: --profile ${p}:3: unknown field limits.memroy (did you mean memory?)\n`);
  });

  test("a field of an entry of an array of tables", async () => {
    const p = file("mounts.toml", `[[mounts]]\ntype = "tmpfs"\ndst = "/a"\n\n[[mounts]]\ntype = "bind"\nsrc = 5\n`);
    const r = await plan(["--profile", p, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toStartWith(`isolate: --profile ${p}:7: mounts.1.src`);
  });

  test("TOML syntax: the line", async () => {
    const p = file("syntax.toml", `a = 1\nb = \nc = 2\n`);
    const r = await plan(["--profile", p, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toStartWith(`isolate: --profile ${p}:2: not valid TOML:`);
  });

  test("tomlLine", () => {
    const t = `x = 1\n[limits]\nmemory = 2\n[[mounts]]\ndst = "/a"\n[[mounts]]\ndst = "/b"\nlimits.pids = 3\n`;
    expect(tomlLine(t, ["limits", "memory"])).toBe(3);
    expect(tomlLine(t, ["mounts", 1, "dst"])).toBe(7);
    expect(tomlLine(t, ["mounts", 1, "src"])).toBe(6);
    expect(tomlLine(t, ["x"])).toBe(1);
  });
});

describe("finding and opening profiles", () => {
  test("NAME: $XDG_CONFIG_HOME/isolate/NAME.toml; never the current directory", async () => {
    const xdg = join(dir.path, "xdg");
    mkdirSync(join(xdg, "isolate"), { recursive: true });
    writeFileSync(join(xdg, "isolate", "mine.toml"), `hostname = "from-xdg"\n`);
    const r = await plan(["--profile", "mine", "--", "true"], { XDG_CONFIG_HOME: xdg });
    expect(r.plan.spec.hostname).toBe("from-xdg");
    expect(r.plan.profiles).toEqual([join(xdg, "isolate", "mine.toml")]);
    // In the current directory, and not in the config dirs: not found.
    file("local.toml", `hostname = "cwd"\n`);
    const home = join(dir.path, "home");
    const nf = await plan(["--profile", "local", "--", "true"], { XDG_CONFIG_HOME: undefined, HOME: home });
    expect(nf.code).toBe(125);
    expect(nf.stderr).toBe(
      `isolate: --profile local: no local.toml in ${home}/.config/isolate or /etc/isolate (a file in the current directory is never looked for by name: pass ./local.toml)\n`,
    );
    expect((await plan(["--profile", "./local.toml", "--", "true"])).plan.spec.hostname).toBe("cwd");
  });

  test("a symbolic link (last component) is refused", async () => {
    const real = file("real.toml", `hostname = "r"\n`);
    const link = join(dir.path, "link.toml");
    symlinkSync(real, link);
    const r = await plan(["--profile", link, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `isolate: --profile ${link}: is a symbolic link: refusing to follow it (pass the path it points to)\n`,
    );
  });
});

describe("the shipped profiles run", () => {
  const profile = (name: string) => join(ROOT, "profiles", `${name}.toml`);

  test("ci: the checkout writable, CI=true, the host's network", async () => {
    const ws = tempDir("isolate-ci-");
    try {
      const r = await isolate(
        ["exec", "--profile", profile("ci"), "--", "sh", "-c", 'echo "$CI $(hostname)"; touch built'],
        { cwd: ws.path },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("true ci\n");
      expect(Bun.file(join(ws.path, "built")).size).toBe(0);
      const p = await isolate(["plan", "--json", "--profile", profile("ci"), "--", "true"], { cwd: ws.path });
      expect(JSON.parse(p.stdout).spec.namespaces.net).toBe(false);
    } finally {
      ws.remove();
    }
  });

  test("judge: the solution runs read-only, out of the judge's directory; a fork bomb meets --pids", async () => {
    const ws = tempDir("isolate-judge-");
    try {
      const sol = join(ws.path, "solution");
      writeFileSync(sol, '#!/bin/sh\nread n; echo $((n * 2)); pwd; touch /judge-file 2>/dev/null || echo "ro"\n', {
        mode: 0o755,
      });
      const r = await isolate(
        ["exec", "--profile", profile("judge"), "--ro-bind", `${sol}:/tmp/solution`, "--", "/tmp/solution"],
        { cwd: ws.path, stdin: "21\n" },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("42\n/\nro\n");
      expect(r.code).toBe(0);
      const bomb = await isolate(
        ["exec", "--profile", profile("judge"), "--", "sh", "-c", "for i in $(seq 40); do sleep 5 & done; wait"],
        { cwd: ws.path },
      );
      expect(bomb.code).not.toBe(0);
    } finally {
      ws.remove();
    }
  });

  test("untrusted: no working directory, HOME=/tmp, a 64M /tmp", async () => {
    const ws = tempDir("isolate-untrusted-");
    try {
      copyFileSync(join(ROOT, "profiles", "untrusted.toml"), join(ws.path, "copy.toml"));
      const r = await isolate(
        ["exec", "--profile", profile("untrusted"), "--", "sh", "-c", "echo $HOME; pwd; df -k /tmp | tail -1"],
        { cwd: ws.path },
      );
      expect(r.stderr).toBe("");
      const [home, cwd, df] = r.stdout.trim().split("\n");
      expect(home).toBe("/tmp");
      expect(cwd).toBe("/");
      expect(df).toMatch(/ 65536 /);
      // The caller's directory is not writable (it is the host's, read-only, like the rest).
      const w = await isolate(["exec", "--profile", profile("untrusted"), "--", "touch", join(ws.path, "x")], {
        cwd: ws.path,
      });
      expect(w.code).not.toBe(0);
      expect(await Bun.file(join(ws.path, "x")).exists()).toBe(false);
    } finally {
      ws.remove();
    }
  });
});
