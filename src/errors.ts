/**
 * Every error isolate raises on purpose. The CLI prints `isolate: <message>`
 * (plus the hint, when there is one) and exits with `exitCode`; a library
 * caller gets the same fields.
 */

export type ErrorCode = "spec" | "host" | "setup" | "exec" | "cgroup" | "internal";

const OPEN = "\u{E000}";
const SEP = "\u{E001}";
const CLOSE = "\u{E002}";
const TOKEN = /\u{E000}([^\u{E001}\u{E002}]*)(?:\u{E001}([^\u{E002}]*))?\u{E002}/gu;

/**
 * A Spec field in an error's words, e.g. field("limits.memory") or
 * field("userns", "host"). The library names it by the field
 * (`limits.memory`, `userns: "host"`); the CLI renders it as the flag that
 * fills it (`--memory`, `--userns host`). Only src/cli/ knows flag names.
 */
export function field(path: string, value?: string): string {
  // Already a field (an entry named as one, e.g. a mount): as it is.
  if (value === undefined && path.startsWith(OPEN)) return path;
  return value === undefined ? `${OPEN}${path}${CLOSE}` : `${OPEN}${path}${SEP}${value}${CLOSE}`;
}

/** How a field is named in words: the library's default, or the CLI's flags. */
export type FieldNamer = (path: string, value: string | undefined) => string;

const specName: FieldNamer = (path, value) => (value === undefined ? path : `${path}: ${JSON.stringify(value)}`);

/** `text` with its fields named by `namer`. */
export function nameFields(text: string, namer: FieldNamer = specName): string {
  return text.includes(OPEN) ? text.replace(TOKEN, (_, p: string, v: string | undefined) => namer(p, v)) : text;
}

/** The first field an error's words name: what the error is about. */
function subjectOf(text: string): string | undefined {
  TOKEN.lastIndex = 0;
  const m = TOKEN.exec(text);
  TOKEN.lastIndex = 0;
  return m?.[1];
}

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
  /** The Spec field the error is about (a dotted path, e.g. "limits.memory"), when it is about one. */
  readonly field: string | undefined;
  /**
   * message and hint with their fields as tokens (see field()), to name them
   * another way or to carry them into another error.
   */
  readonly words: readonly [message: string, hint: string | undefined];

  constructor(code: ErrorCode, message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(nameFields(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "IsolateError";
    this.code = code;
    this.exitCode = opts.exitCode ?? 125;
    this.hint = opts.hint === undefined ? undefined : nameFields(opts.hint);
    this.field = subjectOf(message);
    this.words = [message, opts.hint];
  }

  /**
   * The one line the CLI prints (without the `isolate: ` prefix); `namer`
   * names the fields (the CLI passes its flags), else they are Spec fields.
   */
  text(namer?: FieldNamer): string {
    const [message, hint] = this.words;
    const m = nameFields(message, namer);
    return hint ? `${m} (${nameFields(hint, namer)})` : m;
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
