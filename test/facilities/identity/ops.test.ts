/** Pure mapping code of the hardening: id maps, kept capabilities, what blocks user namespaces. */
import { describe, expect, test } from "bun:test";
import { flagNamer } from "../../../src/cli/output.ts";
import { parseSpec } from "../../../src/config/parse.ts";
import type { Spec, SpecInput } from "../../../src/config/schema.ts";
import { HostError } from "../../../src/errors.ts";
import {
  autoMap,
  hostRootWarning,
  identityPlan,
  NESTED_ID,
  ROOT_RANGE_BASE,
  type SubIdSource,
} from "../../../src/facilities/identity/ops.ts";
import { newNamespaces } from "../../../src/facilities/namespaces/ops.ts";
import { CAP } from "../../../src/facilities/privileges/capabilities.ts";
import { keptCaps } from "../../../src/facilities/privileges/ops.ts";
import { parseCapSets } from "../../../src/host/capabilities.ts";
import { parseProcCgroups } from "../../../src/host/cgroup-layout.ts";
import { kernelAtLeast } from "../../../src/host/check.ts";
import { type Host, isInitialUidMap } from "../../../src/host/probe.ts";
import { parseSubIds } from "../../../src/host/subid.ts";
import { BLOCKERS, seccompModeOf, usernsBlocker } from "../../../src/host/userns.ts";
import { compilePlan } from "../../../src/plan/compile.ts";
import { resolveSandbox } from "../../../src/plan/resolve.ts";

const host = (uid: number, gid = uid): Host => ({
  uid,
  gid,
  root: uid === 0,
  initialUserNs: true,
  env: {},
  cwd: "/",
  landlockAbi: 7,
});
const ROOT = host(0);
/** What resolveSandbox (src/plan/resolve.ts) gives the identity and capabilities: the new namespaces. */
const resolvedNs = (s: Spec, h: Host) => ({ spec: s, host: h, namespaces: newNamespaces(s, h) });
const idPlan = (s: Spec, h: Host, sub: SubIdSource) => identityPlan(s, h, newNamespaces(s, h), sub);
const NOBODY = host(65534);
const USER = host(1000);
const spec = (s: Omit<SpecInput, "command">) => parseSpec({ command: ["true"], ...s });
const noSubIds: SubIdSource = { subuid: () => [], subgid: () => [] };
const subIds: SubIdSource = {
  subuid: () => [{ start: 100000, count: 65536 }],
  subgid: () => [{ start: 200000, count: 65536 }],
};

describe("id maps", () => {
  test("autoMap puts the caller at its inside id and fills the others from the ranges", () => {
    expect(autoMap(0, 1000, [{ start: 100000, count: 65536 }])).toEqual([
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 65536 },
    ]);
    expect(autoMap(1000, 1000, [{ start: 100000, count: 65536 }])).toEqual([
      { inside: 0, outside: 100000, count: 1000 },
      { inside: 1000, outside: 1000, count: 1 },
      { inside: 1001, outside: 101000, count: 64536 },
    ]);
    expect(
      autoMap(70000, 1000, [
        { start: 100000, count: 10 },
        { start: 300000, count: 5 },
      ]),
    ).toEqual([
      { inside: 0, outside: 100000, count: 10 },
      { inside: 10, outside: 300000, count: 5 },
      { inside: 70000, outside: 1000, count: 1 },
    ]);
  });

  test("unprivileged default: the caller's own ids, written directly, setgroups denied", () => {
    const p = idPlan(spec({}), NOBODY, noSubIds);
    expect(p.maps).toEqual({
      uid: [{ inside: 65534, outside: 65534, count: 1 }],
      gid: [{ inside: 65534, outside: 65534, count: 1 }],
      uidVia: "write",
      gidVia: "write",
      denySetgroups: true,
    });
    expect(p.ids).toEqual({ uid: 65534, gid: 65534 });
    expect(p.groups).toBeUndefined();
    expect(p.hostUid).toBe(65534);
  });

  test("--uid 0 as nobody: root inside, nobody outside", () => {
    const p = idPlan(spec({ uid: 0 }), NOBODY, noSubIds);
    expect(p.maps?.uid).toEqual([{ inside: 0, outside: 65534, count: 1 }]);
    expect(p.maps?.gid).toEqual([{ inside: 0, outside: 65534, count: 1 }]);
    expect(p.ids).toEqual({ uid: 0, gid: 0 });
    expect(p.hostUid).toBe(65534);
  });

  test("--userns auto: subordinate ranges through newuidmap/newgidmap, setgroups allowed", () => {
    const p = idPlan(spec({ userns: "auto", uid: 0 }), USER, subIds);
    expect(p.maps?.uidVia).toBe("newuidmap");
    expect(p.maps?.gidVia).toBe("newgidmap");
    expect(p.maps?.denySetgroups).toBe(false);
    expect(p.maps?.uid).toEqual([
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 65536 },
    ]);
    expect(p.groups).toEqual([0]);
    expect(() => idPlan(spec({ userns: "auto" }), USER, noSubIds)).toThrow(/has no range for/);
  });

  test("--map-uid/--map-gid are used as given; the command's uid must be in them", () => {
    const p = idPlan(
      spec({ mapUid: ["0:1000:1", "1:100000:100"], mapGid: ["0:1000:1"], uid: 5, gid: 0 }),
      USER,
      subIds,
    );
    expect(p.maps?.uid).toEqual([
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 100 },
    ]);
    expect(p.maps?.uidVia).toBe("newuidmap");
    expect(p.maps?.gidVia).toBe("write");
    expect(p.hostUid).toBe(100004);
    expect(() => spec({ mapUid: ["0:1000:1"], uid: 3 })).toThrow(/uid 3 is not inside any mapUid range/);
    expect(() => spec({ mapUid: ["0:1000:2", "1:5000:1"] })).toThrow(/overlap inside/);
    expect(() => spec({ mapUid: ["0:x:1"] })).toThrow(/IN:OUT:COUNT/);
    expect(() => spec({ mapUid: ["0:1000:0"] })).toThrow(/at least 1/);
  });

  test("--user is for root: host ids without a user namespace, GID the only group", () => {
    expect(() => idPlan(spec({ user: "1000" }), USER, noSubIds)).toThrow(HostError);
    const p = idPlan(spec({ user: "1000:1001" }), ROOT, noSubIds);
    expect(p.maps).toBeUndefined();
    expect(p.ids).toEqual({ uid: 1000, gid: 1001 });
    expect(p.groups).toEqual([1001]);
    expect(p.hostUid).toBe(1000);
    expect(idPlan(spec({ user: "7" }), ROOT, noSubIds).ids).toEqual({ uid: 7, gid: 7 });
    expect(() => spec({ user: "x" })).toThrow(/UID or UID:GID/);
  });

  test("root with --uid: the id inside root's unprivileged range, written directly", () => {
    const s = spec({ uid: 5, gid: 7 });
    expect(s.namespaces.user).toBe(true);
    const p = idPlan(s, ROOT, noSubIds);
    expect(p.maps?.uid).toEqual([{ inside: 0, outside: ROOT_RANGE_BASE, count: 65536 }]);
    expect(p.maps?.gid).toEqual([{ inside: 0, outside: ROOT_RANGE_BASE, count: 65536 }]);
    expect(p.maps?.denySetgroups).toBe(false);
    expect(p.groups).toEqual([7]);
    expect(p.hostUid).toBe(ROOT_RANGE_BASE + 5);
    expect(p.mappedRoot).toBe(true);
    // Root of another user namespace is not host root: --uid maps to it, as before.
    const inner = idPlan(s, { ...ROOT, initialUserNs: false }, noSubIds);
    expect(inner.maps?.uid).toEqual([{ inside: 5, outside: 0, count: 1 }]);
    expect(inner.mappedRoot).toBe(false);
    // Explicit maps are used as given.
    const given = idPlan(spec({ uid: 5, mapUid: ["5:0:1"], mapGid: ["5:0:1"] }), ROOT, noSubIds);
    expect(given.maps?.uid).toEqual([{ inside: 5, outside: 0, count: 1 }]);
    expect(given.mappedRoot).toBe(false);
    // root with --user and a user namespace: the inside id maps to the --user host id.
    const q = idPlan(spec({ user: "1000", unshare: ["user"] }), ROOT, noSubIds);
    expect(q.maps?.uid).toEqual([{ inside: 1000, outside: 1000, count: 1 }]);
    expect(q.hostUid).toBe(1000);
    expect(() => spec({ uid: 0, share: ["user"] })).toThrow(/needs a new user namespace/);
  });
});

describe("root's default identity", () => {
  test("--allow-nested: a command that would be uid 0 without CAP_SETFCAP is 65534 instead", () => {
    const p = idPlan(spec({ allowNested: true }), ROOT, noSubIds);
    expect(p.ids).toEqual({ uid: NESTED_ID, gid: NESTED_ID });
    expect(p.hostUid).toBe(ROOT_RANGE_BASE + NESTED_ID);
    expect(p.nestedId).toBe(true);
    // Root of another user namespace: a namespace of its own, 65534 inside, still its own id outside.
    const inNs = idPlan(spec({ allowNested: true }), { ...ROOT, initialUserNs: false }, noSubIds);
    expect(inNs.maps?.uid).toEqual([{ inside: NESTED_ID, outside: 0, count: 1 }]);
    expect(inNs.nestedId).toBe(true);
    // Any say on the uid is kept: --uid, --map-uid, CAP_SETFCAP kept; and a caller that is not uid 0.
    expect(idPlan(spec({ allowNested: true, uid: 0 }), ROOT, noSubIds).ids).toEqual({ uid: 0, gid: 0 });
    expect(idPlan(spec({ allowNested: true, gid: 5 }), ROOT, noSubIds).ids).toEqual({ uid: NESTED_ID, gid: 5 });
    expect(idPlan(spec({ allowNested: true, capAdd: ["SETFCAP"] }), ROOT, noSubIds).ids?.uid).toBe(0);
    expect(idPlan(spec({ allowNested: true }), USER, noSubIds).nestedId).toBe(false);
    expect(idPlan(spec({}), ROOT, noSubIds).nestedId).toBe(false);
  });

  test("root in the initial user namespace: uid/gid 0 inside a new one, mapped to an unused range", () => {
    const s = spec({});
    expect(s.namespaces.user).toBe("auto");
    const p = idPlan(s, ROOT, noSubIds);
    expect(p.maps).toEqual({
      uid: [{ inside: 0, outside: ROOT_RANGE_BASE, count: 65536 }],
      gid: [{ inside: 0, outside: ROOT_RANGE_BASE, count: 65536 }],
      uidVia: "write",
      gidVia: "write",
      denySetgroups: false,
    });
    expect(p.ids).toEqual({ uid: 0, gid: 0 });
    expect(p.hostUid).toBe(ROOT_RANGE_BASE);
    expect(p.mappedRoot).toBe(true);
    // The range sits in systemd's unused block, below 2^31.
    expect(ROOT_RANGE_BASE).toBeGreaterThanOrEqual(1879048192);
    expect(ROOT_RANGE_BASE + 65535).toBeLessThan(0x7ffe0000);
  });

  test("root's /etc/subuid and /etc/subgid ranges come first, at most 65536 ids", () => {
    const p = idPlan(spec({}), ROOT, subIds);
    expect(p.maps?.uid).toEqual([{ inside: 0, outside: 100000, count: 65536 }]);
    expect(p.maps?.gid).toEqual([{ inside: 0, outside: 200000, count: 65536 }]);
    const small: SubIdSource = { subuid: () => [{ start: 300000, count: 1000 }], subgid: () => [] };
    const q = idPlan(spec({}), ROOT, small);
    expect(q.maps?.uid).toEqual([{ inside: 0, outside: 300000, count: 1000 }]);
    expect(q.maps?.gid).toEqual([{ inside: 0, outside: ROOT_RANGE_BASE, count: 65536 }]);
    expect(() => idPlan(spec({ uid: 1000 }), ROOT, small)).toThrow(/map uids 0-999 only/);
    expect(() => idPlan(spec({ uid: 65536 }), ROOT, noSubIds)).toThrow(/0-65535 only/);
    const zero: SubIdSource = { subuid: () => [{ start: 0, count: 65536 }], subgid: () => [] };
    expect(() => idPlan(spec({}), ROOT, zero)).toThrow(/starts at 0/);
  });

  test("--user, --userns host and --share user keep host identities; --userns host warns", () => {
    expect(idPlan(spec({ user: "1000" }), ROOT, noSubIds).maps).toBeUndefined();
    const h = spec({ userns: "host" });
    expect(h.namespaces.user).toBe(false);
    const p = idPlan(h, ROOT, noSubIds);
    expect(p.maps).toBeUndefined();
    expect(p.hostUid).toBe(0);
    expect(hostRootWarning(resolvedNs(h, ROOT))).toMatch(/^warning: userns: "host": the command runs as host root/);
    expect(hostRootWarning(resolvedNs(h, ROOT), flagNamer)).toMatch(
      /^warning: --userns host: the command runs as host root/,
    );
    expect(hostRootWarning(resolvedNs(spec({ share: ["user"] }), ROOT))).toBeUndefined();
    expect(hostRootWarning(resolvedNs(spec({}), ROOT))).toBeUndefined();
    expect(hostRootWarning(resolvedNs(spec({ user: "1000" }), ROOT))).toBeUndefined();
    expect(hostRootWarning(resolvedNs(h, { ...ROOT, initialUserNs: false }))).toBeUndefined();
    expect(() => spec({ userns: "host", uid: 0 })).toThrow(/do not userns: "host"/);
    expect(() => spec({ userns: "host", unshare: ["user"] })).toThrow(/drop unshare: "user"/);
    expect(() => spec({ userns: "nope" as never })).toThrow(/"host"/);
  });

  test("unprivileged callers are unchanged", () => {
    expect(idPlan(spec({}), USER, subIds).mappedRoot).toBe(false);
    expect(idPlan(spec({}), USER, subIds).hostUid).toBe(1000);
  });

  test("the uid_map of the initial user namespace", () => {
    expect(isInitialUidMap("         0          0 4294967295\n")).toBe(true);
    expect(isInitialUidMap("0 0 4294967295")).toBe(true);
    expect(isInitialUidMap("         0          0      65536\n")).toBe(false);
    expect(isInitialUidMap("0 1000 1\n")).toBe(false);
    expect(isInitialUidMap("0 0 4294967295\n1 1 1\n")).toBe(false);
  });
});

describe("capabilities", () => {
  const all = (1n << 41n) - 1n;
  test("--cap-add keeps the named ones, refuses those isolate does not have, ALL takes what there is", () => {
    expect(keptCaps(resolvedNs(spec({}), ROOT), all)).toBe(0n);
    // As host root (--userns host): what isolate's own bounding set has.
    const hostRoot = { userns: "host" } as const;
    expect(keptCaps(resolvedNs(spec({ ...hostRoot, capAdd: ["CAP_NET_BIND_SERVICE", "kill"] }), ROOT), all)).toBe(
      (1n << BigInt(CAP.NET_BIND_SERVICE)) | (1n << BigInt(CAP.KILL)),
    );
    const noResource = all & ~(1n << BigInt(CAP.SYS_RESOURCE));
    expect(() => keptCaps(resolvedNs(spec({ ...hostRoot, capAdd: ["SYS_RESOURCE"] }), ROOT), noResource)).toThrow(
      /not in its bounding set/,
    );
    expect(keptCaps(resolvedNs(spec({ ...hostRoot, capAdd: ["ALL"] }), ROOT), noResource)).toBe(noResource);
    // Root mapped (the default): capabilities of its own user namespace only.
    expect(keptCaps(resolvedNs(spec({ capAdd: ["SYS_RESOURCE"] }), ROOT), noResource)).toBe(
      1n << BigInt(CAP.SYS_RESOURCE),
    );
    expect(() => keptCaps(resolvedNs(spec({ capAdd: ["NET_RAW"], share: ["user"] }), NOBODY), all)).toThrow(
      /user namespace/,
    );
    expect(keptCaps(resolvedNs(spec({ capAdd: ["NET_RAW"] }), NOBODY), all)).toBe(1n << BigInt(CAP.NET_RAW));
    // A new user namespace starts with every capability, bounding set included.
    expect(keptCaps(resolvedNs(spec({ capAdd: ["SYS_RESOURCE"] }), NOBODY), noResource)).toBe(
      1n << BigInt(CAP.SYS_RESOURCE),
    );
    expect(keptCaps(resolvedNs(spec({ capAdd: ["ALL"], unshare: ["user"] }), ROOT), noResource)).toBe(all);
    expect(() => spec({ capAdd: ["CAP_FLY"] })).toThrow(/"CAP_FLY": unknown capability/);
  });

  test("the plan: no_new_privs, Landlock, bounding set, securebits, ids, caps, seccomp, exec; the init keeps CAP_KILL only with --cap-add", () => {
    const ops = (s: SpecInput, h: Host) => compilePlan(resolveSandbox(parseSpec(s), h)).map((o) => o.op);
    expect(ops({ command: ["true"] }, ROOT).slice(-6, -2)).toEqual(["securebits", "setGroups", "setIds", "caps"]);
    expect(ops({ command: ["true"], userns: "host" }, ROOT).slice(-8)).toEqual([
      "chdir",
      "noNewPrivs",
      "landlock",
      "capBounding",
      "securebits",
      "caps",
      "seccomp",
      "exec",
    ]);
    expect(ops({ command: ["true"], user: "1000" }, ROOT)).toContain("setIds");
    expect(ops({ command: ["true"], seccomp: "none" }, ROOT)).not.toContain("seccomp");
    const initKeep = (s: SpecInput, h: Host) => {
      const o = compilePlan(resolveSandbox(parseSpec(s), h)).find((x) => x.op === "initCaps");
      return o?.op === "initCaps" ? BigInt(o.args.keep) : -1n;
    };
    expect(initKeep({ command: ["true"] }, ROOT)).toBe(0n);
    expect(initKeep({ command: ["true"] }, NOBODY)).toBe(0n);
    expect(initKeep({ command: ["true"], uid: 0 }, NOBODY)).toBe(0n);
    expect(initKeep({ command: ["true"], user: "1000" }, ROOT)).toBe(0n);
    expect(initKeep({ command: ["true"], capAdd: ["NET_ADMIN"] }, ROOT)).toBe(1n << BigInt(CAP.KILL));
    // The init takes the command's ids instead: kill() then needs no capability.
    const init = compilePlan(resolveSandbox(parseSpec({ command: ["true"], user: "1000" }), ROOT)).find(
      (x) => x.op === "initCaps",
    );
    expect(init?.op === "initCaps" && init.args).toMatchObject({ uid: 1000, gid: 1000, flags: 3 });
    expect(() =>
      compilePlan(
        resolveSandbox(
          parseSpec({ command: ["true"], share: ["pid", "mount", "uts", "ipc", "net", "cgroup", "user"] }),
          NOBODY,
        ),
      ),
    ).toThrow(/bounding set/);
  });

  test("/proc/self/status capability lines", () => {
    const c = parseCapSets(
      "CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t0000000000000020\nCapBnd:\t000001ffffffffff\n",
    );
    expect(c).toEqual({ bounding: 0x1ffffffffffn, permitted: 0x1fffeffffffn, effective: 0x20n });
  });
});

describe("what blocks user namespaces", () => {
  const knobs = {
    maxUserNamespaces: 1000,
    unprivilegedUsernsClone: undefined,
    apparmorRestrict: undefined,
    seccompMode: 0,
  };
  test("each knob is named with its remedy", () => {
    expect(usernsBlocker(28, { ...knobs, maxUserNamespaces: 0 })).toBe(BLOCKERS.maxZero);
    expect(usernsBlocker(1, { ...knobs, maxUserNamespaces: 0 })?.knob).toBe("user.max_user_namespaces=0");
    expect(usernsBlocker(28, knobs)?.knob).toBe("user.max_user_namespaces=1000");
    expect(usernsBlocker(1, { ...knobs, unprivilegedUsernsClone: 0 })).toBe(BLOCKERS.cloneSysctl);
    expect(usernsBlocker(1, { ...knobs, apparmorRestrict: 1 })).toBe(BLOCKERS.apparmor);
    expect(usernsBlocker(13, { ...knobs, apparmorRestrict: 1 })?.remedy).toMatch(
      /kernel.apparmor_restrict_unprivileged_userns=0/,
    );
    expect(usernsBlocker(1, { ...knobs, seccompMode: 2 })).toBe(BLOCKERS.seccomp);
    expect(usernsBlocker(38, { ...knobs, seccompMode: 2 })).toBe(BLOCKERS.seccomp);
    expect(usernsBlocker(1, knobs)).toBeUndefined();
    expect(usernsBlocker(1, { ...knobs, maxUserNamespaces: 0 }, false)).toBeUndefined();
    expect(BLOCKERS.maxZero.remedy).toMatch(/sysctl -w user.max_user_namespaces=/);
  });

  test("seccomp mode from /proc/self/status", () => {
    expect(seccompModeOf("Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n")).toBe(2);
    expect(seccompModeOf("Name:\tx\n")).toBeUndefined();
  });
});

describe("host files", () => {
  test("/etc/subuid lines by name or uid", () => {
    const text = "# comment\nalice:100000:65536\n1000:300000:10\nbob:165536:65536\nbroken\nalice:x:1\n";
    expect(parseSubIds(text, { uid: 1000, name: "alice" })).toEqual([
      { start: 100000, count: 65536 },
      { start: 300000, count: 10 },
    ]);
    expect(parseSubIds(text, { uid: 2000, name: undefined })).toEqual([]);
  });

  // mountinfo and /proc/self/cgroup: test/cgroup/detect.test.ts (one parser for check and exec).
  test("/proc/cgroups", () => {
    expect(parseProcCgroups("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nrdma\t0\t1\t0\n")).toEqual([
      "cpu",
    ]);
  });

  test("kernel versions", () => {
    expect(kernelAtLeast("6.18.44-fc", [5, 9])).toBe(true);
    expect(kernelAtLeast("5.9.0", [5, 9])).toBe(true);
    expect(kernelAtLeast("5.4.0-150-generic", [5, 9])).toBe(false);
    expect(kernelAtLeast("garbage", [5, 9])).toBe(false);
  });
});
