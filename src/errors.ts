/**
 * Every error isolate raises on purpose. The CLI prints `isolate: <message>`
 * (plus the hint, when there is one) and exits with `exitCode`; a library
 * caller gets the same fields.
 */

export type ErrorCode = "spec" | "host" | "setup" | "exec" | "cgroup" | "internal";

/**
 * @example
 * try {
 *   spawn({ command: [] });
 * } catch (e) {
 *   if (e instanceof IsolateError) console.error(`isolate: ${e.text()}`); // "isolate: command: no command given ..."
 * }
 */
export class IsolateError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "IsolateError";
    this.code = code;
    this.exitCode = opts.exitCode ?? 125;
    this.hint = opts.hint;
  }

  /** The one line the CLI prints (without the `isolate: ` prefix). */
  text(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/**
 * Bad input: a flag, a profile field, a library argument. Nothing was created.
 *
 * @example
 * await run({ command: ["true"], limits: { memory: "lots" } }).catch((e) => e instanceof SpecError); // true
 */
export class SpecError extends IsolateError {
  constructor(message: string, hint?: string) {
    super("spec", message, hint === undefined ? {} : { hint });
    this.name = "SpecError";
  }
}

/**
 * The host cannot do what was asked (missing kernel feature, permissions).
 *
 * @example
 * // as a user without a delegated cgroup: rejects with a HostError or CgroupError naming the fix
 * await run({ command: ["true"], limits: { memory: "64M" } }).catch((e) => console.error(e.text()));
 */
export class HostError extends IsolateError {
  constructor(message: string, hint?: string) {
    super("host", message, hint === undefined ? {} : { hint });
    this.name = "HostError";
  }
}

/**
 * A cgroup limit that cannot be enforced, or cgroup setup that failed.
 * Limits fail closed: the sandbox is never run without one it asked for.
 *
 * @example
 * const e = await run({ command: ["true"], limits: { cpus: 0.5 } }).catch((x) => x);
 * if (e instanceof CgroupError) console.error(e.text()); // what is missing, and the fix
 */
export class CgroupError extends IsolateError {
  constructor(message: string, hint?: string) {
    super("cgroup", message, hint === undefined ? {} : { hint });
    this.name = "CgroupError";
  }
}
