/**
 * `isolate plan --json` for representative specs, snapshotted: a change to how
 * the plan is put together (the facilities' registry, src/facilities/index.ts)
 * must leave every byte of it as it was. The hosts are fixed (no file of this
 * machine's but the view's sources under /etc and /usr, which every Linux has);
 * the seccomp filter is the architecture's, so the snapshots are per architecture.
 */
import { describe, expect, test } from "bun:test";
import { planJson } from "../../src/cli/commands/plan.ts";
import { scanFlags } from "../../src/cli/flags.ts";
import { buildSpec } from "../../src/cli/spec-input.ts";
import { type Host, probeHost } from "../../src/host/probe.ts";
import { resolveSandbox } from "../../src/plan/resolve.ts";

const ENV = { PATH: "/usr/bin:/bin", HOME: "/nonexistent-isolate-home", LANG: "C.UTF-8", TERM: "xterm", FOO: "bar" };
const ROOT: Host = { uid: 0, gid: 0, root: true, initialUserNs: true, env: ENV, cwd: "/tmp", landlockAbi: 6 };
const NOBODY: Host = { ...ROOT, uid: 65534, gid: 65534, root: false };
const SOURCES = {
  subids: { subuid: () => [{ start: 100000, count: 65536 }], subgid: () => [{ start: 200000, count: 65536 }] },
  bounding: (1n << 41n) - 1n,
};

const SPECS: Record<string, readonly string[]> = {
  default: ["true"],
  hostname: ["--hostname", "box", "--env", "A=1", "--env", "FOO", "--chdir", "/", "--", "sh", "-c", "echo hi"],
  view: [
    "--ro-bind",
    "/etc:/mnt/etc",
    "--bind",
    "/usr/share",
    "--tmpfs",
    "/scratch:16M",
    "--overlay",
    "/opt",
    "--mask",
    "/etc/hostname",
    "--symlink",
    "/usr/bin:/b",
    "--dir",
    "/d:0700",
    "--no-cwd",
    "ls",
  ],
  limits: [
    "--memory",
    "256M",
    "--pids",
    "64",
    "--timeout",
    "5s",
    "--cpu-time",
    "2s",
    "--rlimit",
    "nofile=128",
    "--rlimit",
    "core=0",
    "--cpus",
    "1.5",
    "true",
  ],
  privileges: ["--cap-add", "net_bind_service", "--seccomp", "none", "--landlock", "off", "true"],
  user: ["--user", "1000:1000", "--unshare", "time", "true"],
  pasta: ["--net", "pasta", "--publish", "8080:80", "true"],
  badPair: ["--memory", "lots", "--cap-add", "nosuch", "true"],
  userns: ["--userns", "auto", "true"],
  mapUid: ["--map-uid", "0:1000:1", "--map-gid", "0:1000:1", "true"],
  shared: ["--share", "pid,net,ipc", "--ro-cwd", "true"],
  netHost: ["--net", "host", "true"],
  pty: ["--pty", "--ro-cwd", "bash"],
  inherit: ["--inherit-env", "--kill-after", "1s", "env"],
};

async function plan(argv: readonly string[], host: Host): Promise<string> {
  const scanned = scanFlags(argv, "plan");
  const { spec, profiles } = await buildSpec(scanned);
  return planJson(resolveSandbox(spec, host, SOURCES), profiles);
}

describe(`isolate plan --json (${process.arch})`, () => {
  for (const [name, argv] of Object.entries(SPECS)) {
    for (const [who, host] of [
      ["root", ROOT],
      ["nobody", NOBODY],
    ] as const) {
      test(`${name} as ${who}`, async () => {
        let out: string;
        try {
          out = await plan(argv, host);
        } catch (e) {
          out = `error: ${(e as Error).message}`;
        }
        expect(out).toMatchSnapshot();
      });
    }
  }

  test("is what the CLI prints", () => {
    const argv = ["--hostname", "box", "--memory", "64M", "true"];
    const r = Bun.spawnSync(["bun", `${import.meta.dir}/../../src/cli/main.ts`, "plan", "--json", ...argv], {
      env: { ...process.env },
    });
    expect(r.stderr.toString()).toBe("");
    const here = planJson(resolveSandbox(scanFlagsSpec(argv), probeHost()), []);
    expect(r.stdout.toString()).toBe(here);
  });
});

function scanFlagsSpec(argv: readonly string[]) {
  const { parseSpec } = require("../../src/config/parse.ts") as typeof import("../../src/config/parse.ts");
  const { CLI_SPEC_DEFAULTS } = require("../../src/cli/flags.ts") as typeof import("../../src/cli/flags.ts");
  return parseSpec(scanFlags(argv, "plan").draft, undefined, CLI_SPEC_DEFAULTS);
}
