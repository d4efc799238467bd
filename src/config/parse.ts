import * as v from "valibot";
import { SpecError, field as specField } from "../errors.ts";
import type { CwdMount } from "../facilities/view/fields.ts";
import { normalize, type Spec, SpecInputSchema } from "./schema.ts";
import { keyIssue } from "./suggest.ts";

/** Defaults that differ between callers: the CLI shares the working directory read-write, the library read-only. */
export interface SpecDefaults {
  readonly cwdMount?: CwdMount;
}

/**
 * Validate and normalize a SpecInput. Throws SpecError naming the field (an
 * unknown one with the closest known one); `fieldName` lets the CLI speak of
 * its flags instead of Spec fields; `defaults` are the caller's (the CLI's
 * read-write cwd).
 *
 * @example
 * const spec = parseSpec({ command: ["make"], limits: { memory: "1G" }, env: { CC: "gcc" } });
 * parseSpec({ command: ["true"], limits: { memroy: "1G" } });
 * // throws SpecError "limits: unknown field `memroy`" with hint "did you mean `memory`?"
 */
export function parseSpec(
  input: unknown,
  fieldName: (field: string) => string = specField,
  defaults: SpecDefaults = {},
): Spec {
  const r = v.safeParse(SpecInputSchema, input);
  if (!r.success) {
    const issue = r.issues[0];
    const path = v.getDotPath(issue) ?? "";
    // The path without list positions (e.g. "limits.memory", "env"); fieldName may map any prefix of it.
    const dotted = path
      .split(".")
      .filter((p) => !/^\d+$/.test(p))
      .join(".");
    const name = dotted ? fieldName(dotted) : "spec";
    const key = keyIssue(SpecInputSchema, r.issues);
    if (key) throw new SpecError(`${key.parent ? `${fieldName(key.parent)}: ` : ""}${key.message}`, key.hint);
    const value = issue.input;
    const shown = typeof value === "string" && value.length <= 80 ? ` "${value}"` : "";
    throw new SpecError(`${name}${shown}: ${issue.message}`);
  }
  const spec = normalize(r.output, defaults.cwdMount);
  if (Array.isArray(spec)) throw new SpecError(`${fieldName(spec[0])}: ${spec[1]}`);
  return spec;
}
