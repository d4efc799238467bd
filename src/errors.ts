/**
 * Every error isolate raises on purpose. The CLI prints `isolate: <message>`
 * (plus the hint, when there is one) and exits with `exitCode`; a library
 * caller gets the same fields.
 */

export type ErrorCode = "spec" | "host" | "setup" | "exec" | "cgroup" | "internal";

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

/** Bad input: a flag, a profile field, a library argument. Nothing was created. */
export class SpecError extends IsolateError {
  constructor(message: string, hint?: string) {
    super("spec", message, hint === undefined ? {} : { hint });
    this.name = "SpecError";
  }
}

/** The host cannot do what was asked (missing kernel feature, permissions). */
export class HostError extends IsolateError {
  constructor(message: string, hint?: string) {
    super("host", message, hint === undefined ? {} : { hint });
    this.name = "HostError";
  }
}

/**
 * A cgroup limit that cannot be enforced, or cgroup setup that failed.
 * Limits fail closed: the sandbox is never run without one it asked for.
 */
export class CgroupError extends IsolateError {
  constructor(message: string, hint?: string) {
    super("cgroup", message, hint === undefined ? {} : { hint });
    this.name = "CgroupError";
  }
}
