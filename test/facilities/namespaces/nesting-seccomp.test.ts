/** --allow-nested's seccomp profile: namespace creation and the mount family pass, the rest of the default holds. */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import { compileSeccomp, isPlainDefault, type SeccompSetting } from "../../../src/facilities/seccomp/compile.ts";
import { AF_ALG, CLONE_NS, DENIED, NESTED_ALLOWED } from "../../../src/facilities/seccomp/profiles.ts";
import { NATIVE, syscallNumber } from "../../../src/facilities/seccomp/tables.ts";
import type { Host } from "../../../src/host/probe.ts";
import { compilePlan } from "../../../src/plan/compile.ts";
import { resolveSandbox } from "../../../src/plan/resolve.ts";
import { runFilter, verdict } from "../../helpers/seccomp-bpf.ts";

const EPERM = 1;
const nr = (name: string) => syscallNumber(name) ?? -1;
const nested: SeccompSetting = { profile: "default", allow: [], deny: [], nested: true };
const program = (s: SeccompSetting) => {
  const p = compileSeccomp(s);
  if (!p) throw new Error("no program");
  return p;
};
const call = (p: Uint8Array, name: string, args: number[] = []) =>
  verdict(runFilter(p, { nr: nr(name), arch: NATIVE.auditArch, args }));

describe("--allow-nested", () => {
  const p = program(nested);
  const plain = program({ profile: "default", allow: [], deny: [] });

  test("the flag reaches the Spec's seccomp setting, which is then not the prebuilt default", () => {
    const spec = parseSpec({ command: ["true"], allowNested: true });
    expect(spec.allowNested).toBe(true);
    expect(spec.seccomp.nested).toBe(true);
    expect(isPlainDefault(spec.seccomp)).toBe(false);
    expect(parseSpec({ command: ["true"] }).seccomp.nested).toBeUndefined();
  });

  test("namespace creation and the mount family are allowed; without the flag they are not", () => {
    const all = Object.values(CLONE_NS).reduce((a, b) => a | b, 0);
    expect(call(p, "unshare", [all])).toBe("allow");
    expect(call(p, "clone", [CLONE_NS.NEWUSER | CLONE_NS.NEWPID])).toBe("allow");
    expect(call(p, "clone3")).toBe("allow");
    for (const name of NESTED_ALLOWED.filter((n) => syscallNumber(n) !== undefined)) {
      expect([name, call(p, name)]).toEqual([name, "allow"]);
    }
    expect(call(plain, "unshare", [CLONE_NS.NEWUSER])).toEqual({ errno: EPERM });
    expect(call(plain, "mount")).toEqual({ errno: EPERM });
  });

  test("everything else the default denies stays denied (setns, keyctl, bpf, ptrace, AF_ALG...)", () => {
    const rest = DENIED.filter((n) => !NESTED_ALLOWED.includes(n) && syscallNumber(n) !== undefined);
    expect(rest).toContain("setns");
    expect(rest).toContain("keyctl");
    for (const name of rest) expect([name, call(p, name)]).toEqual([name, { errno: EPERM }]);
    expect(call(p, "socket", [AF_ALG])).toEqual({ errno: EPERM });
  });
});

describe("plans for a host in another user namespace", () => {
  const base = { uid: 0, gid: 0, root: true, env: {}, cwd: "/" };
  const pts = (h: Host, extra: Record<string, unknown> = {}) =>
    String(
      (
        compilePlan(resolveSandbox(parseSpec({ command: ["true"], ...extra }), h)).find((o) => o.op === "mountDev")
          ?.args as { ptsOptions: string } | undefined
      )?.ptsOptions,
    );

  test("devpts names the tty group (gid 5) only in the initial user namespace, where it is mapped", () => {
    // Host root keeping the host's user namespace (root runs mapped by default: a new one).
    expect(pts({ ...base, initialUserNs: true }, { userns: "host" })).toContain("gid=5");
    expect(pts({ ...base, initialUserNs: true })).not.toContain("gid=");
    expect(pts({ ...base, initialUserNs: false })).not.toContain("gid=");
  });

  test("--allow-nested leaves /proc unmasked, keeps /sys masked; refused for a host-root command", () => {
    const nobody = { ...base, uid: 65534, gid: 65534, root: false, initialUserNs: true };
    const ops = compilePlan(resolveSandbox(parseSpec({ command: ["true"], allowNested: true }), nobody));
    const masks = ops.filter((o) => o.op === "mask").map((o) => (o.args as { path: string }).path);
    expect(masks.some((m) => m.startsWith("/proc/"))).toBe(false);
    expect(masks).toContain("/sys/firmware");
    expect(ops.some((o) => o.op === "readonly")).toBe(false);
    const plain = compilePlan(resolveSandbox(parseSpec({ command: ["true"] }), nobody));
    expect(plain.filter((o) => o.op === "mask").some((o) => (o.args as { path: string }).path === "/proc/kcore")).toBe(
      true,
    );
    expect(() =>
      compilePlan(
        resolveSandbox(parseSpec({ command: ["true"], allowNested: true, userns: "host" }), {
          ...base,
          initialUserNs: true,
        }),
      ),
    ).toThrow(/host root/);
    // Root mapped (the default): uid 0 without CAP_SETFCAP could not map itself again, so the
    // command is 65534; an explicit --uid 0 is refused, naming the kernel's rule.
    const root = { ...base, initialUserNs: true };
    const plan = (input: Parameters<typeof parseSpec>[0]) => compilePlan(resolveSandbox(parseSpec(input), root));
    expect(() => plan({ command: ["true"], allowNested: true })).not.toThrow();
    expect(() => plan({ command: ["true"], allowNested: true, uid: 0 })).toThrow(
      /CAP_SETFCAP may map uid 0 .*verify_root_map/,
    );
  });
});
