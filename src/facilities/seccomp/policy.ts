/**
 * Seccomp policies as data: the JSON format `--seccomp FILE` reads (and a
 * library caller may pass as an object), validated with valibot.
 *
 *   {
 *     "base": "default",          // start from isolate's default profile ("default"), or from nothing ("none")
 *     "defaultAction": "allow",   // for calls no rule matches: "allow" | "errno" | "kill" | "log"
 *     "defaultErrno": "EPERM",    // the errno of defaultAction "errno"
 *     "rules": [                  // tried in order, the first match wins; before the base profile's rules
 *       { "syscalls": ["ptrace", "personality"], "action": "errno", "errno": "EPERM" },
 *       { "syscalls": ["socket"], "action": "errno",
 *         "args": [{ "index": 0, "op": "eq", "value": 17 }] },
 *       { "syscalls": ["io_uring_setup"], "action": "allow" }
 *     ]
 *   }
 *
 * - A syscall is named as in the kernel headers of the native architecture
 *   (`read`, `clone3`), or given as a decimal number for calls newer than them.
 * - Actions: "allow"; "errno" (returns -1 with `errno`, default EPERM; a name
 *   such as "ENOSYS" or a number 1-4095); "kill" (kills the whole process);
 *   "log" (allowed, and logged by the kernel's audit).
 * - Argument conditions compare the low 32 bits of argument `index` (0-5), as
 *   the kernel reads int and flag arguments: "eq" / "ne" `value`; "anySet"
 *   (some bit of `value` set); "maskedEq" (arg & `mask` == `value`). A rule
 *   with several conditions matches when all hold.
 * - Always, before any rule: a call from a foreign ABI (i386 `int $0x80`, x32)
 *   kills the process; exit, exit_group and rt_sigreturn are allowed.
 */
import * as v from "valibot";
import { errnoByName } from "../../host/errno.ts";
import { NATIVE, resolveSyscall } from "./tables.ts";

export const ACTIONS = ["allow", "errno", "kill", "log"] as const;
export type ActionName = (typeof ACTIONS)[number];

export function errnoNumber(e: string | number): number | undefined {
  if (typeof e === "number") return Number.isInteger(e) && e >= 1 && e <= 4095 ? e : undefined;
  return errnoByName(e);
}

const Errno = v.pipe(
  v.union([v.string(), v.number()], "errno must be a name like EPERM or a number"),
  v.check((e) => errnoNumber(e) !== undefined, "unknown errno (use a name like EPERM, or 1-4095)"),
);

export const SyscallName = v.pipe(
  v.string("a syscall name must be a string"),
  v.check(
    (s) => resolveSyscall(s) !== undefined,
    () => `unknown syscall on ${NATIVE.arch} (use a name from the kernel headers, or a number)`,
  ),
);

const U32 = v.pipe(
  v.number(),
  v.integer("must be an integer"),
  v.minValue(0, "must not be negative"),
  v.maxValue(0xffffffff, "conditions compare the low 32 bits: the value must fit in 32 bits"),
);

const ArgCondition = v.strictObject({
  index: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(5, "argument index is 0-5")),
  op: v.picklist(["eq", "ne", "anySet", "maskedEq"], 'op must be "eq", "ne", "anySet" or "maskedEq"'),
  value: U32,
  mask: v.optional(U32),
});

const Rule = v.pipe(
  v.strictObject({
    syscalls: v.pipe(v.array(SyscallName), v.minLength(1, "a rule names at least one syscall")),
    action: v.picklist(ACTIONS, 'action must be "allow", "errno", "kill" or "log"'),
    errno: v.optional(Errno),
    args: v.optional(v.array(ArgCondition), []),
  }),
  v.check((r) => r.errno === undefined || r.action === "errno", '"errno" is only for action "errno"'),
  v.check(
    (r) => r.args.every((a) => (a.op === "maskedEq") === (a.mask !== undefined)),
    '"mask" goes with op "maskedEq"',
  ),
);

export const PolicySchema = v.strictObject(
  {
    base: v.optional(v.picklist(["default", "none"], 'base must be "default" or "none"'), "default"),
    defaultAction: v.optional(v.picklist(ACTIONS, 'defaultAction must be "allow", "errno", "kill" or "log"'), "allow"),
    defaultErrno: v.optional(Errno),
    rules: v.optional(v.array(Rule, "rules must be a list"), []),
  },
  "a seccomp policy must be a JSON object (keys: base, defaultAction, defaultErrno, rules)",
);

export type PolicyInput = v.InferInput<typeof PolicySchema>;
export type Policy = v.InferOutput<typeof PolicySchema>;

/** What a call gets: the resolved form the compiler works with. */
export type Action =
  | { readonly type: "allow" }
  | { readonly type: "errno"; readonly errno: number }
  | { readonly type: "kill" }
  | { readonly type: "log" };

export interface Condition {
  readonly index: number;
  readonly op: "eq" | "ne" | "anySet" | "maskedEq";
  readonly value: number;
  readonly mask?: number;
}

export interface CompiledRule {
  /** The names as given, for messages. */
  readonly names: readonly string[];
  readonly nrs: readonly number[];
  readonly action: Action;
  readonly args: readonly Condition[];
}

export const EPERM = 1;
export const ENOSYS = 38;

export function action(name: ActionName, errno?: string | number): Action {
  switch (name) {
    case "allow":
      return { type: "allow" };
    case "kill":
      return { type: "kill" };
    case "log":
      return { type: "log" };
    case "errno":
      return { type: "errno", errno: errno === undefined ? EPERM : (errnoNumber(errno) ?? EPERM) };
  }
}

/** Rules in a policy, resolved to numbers (names without a number on this arch are left out). */
export function compileRules(p: Policy): CompiledRule[] {
  return p.rules.map((r) => ({
    names: r.syscalls,
    nrs: r.syscalls.map((s) => resolveSyscall(s)).filter((n): n is number => n !== undefined),
    action: action(r.action, r.errno),
    args: r.args.map(stripUndefined),
  }));
}

function stripUndefined(c: {
  index: number;
  op: Condition["op"];
  value: number;
  mask?: number | undefined;
}): Condition {
  return c.mask === undefined
    ? { index: c.index, op: c.op, value: c.value }
    : { index: c.index, op: c.op, value: c.value, mask: c.mask };
}
