/**
 * "unknown field `memroy`" and the closest known one, for an unknown key in
 * any strictObject (a Spec, its limits, a mount entry, run() options).
 */
import type * as v from "valibot";

/** Edit distance (insert, delete, substitute, swap two neighbours). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The candidate nearest to word, if near enough to be a slip (at most a third of it, at least 2). */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best;
}

type AnySchema = v.GenericSchema & {
  entries?: Record<string, AnySchema>;
  wrapped?: AnySchema;
  pipe?: readonly AnySchema[];
  item?: AnySchema;
  options?: readonly AnySchema[];
};

/** The keys an object schema at this path of keys accepts (through optional, pipe, array, union, variant). */
function keysAt(schema: AnySchema | undefined, path: readonly (string | number)[]): Set<string> {
  const out = new Set<string>();
  const walk = (s: AnySchema | undefined, rest: readonly (string | number)[]): void => {
    if (!s) return;
    if (s.wrapped) walk(s.wrapped, rest);
    else if (s.pipe && s.pipe[0] !== s) walk(s.pipe[0], rest);
    else if (s.options) for (const o of s.options) walk(o, rest);
    else if (s.item && typeof rest[0] === "number") walk(s.item, rest.slice(1));
    else if (s.entries) {
      if (rest.length === 0) for (const k of Object.keys(s.entries)) out.add(k);
      else if (typeof rest[0] === "string") walk(s.entries[rest[0]], rest.slice(1));
    }
  };
  walk(schema, path);
  return out;
}

/**
 * A strictObject's key problem among the issues: an unknown key first ("unknown
 * field `memroy`", with a hint naming the closest known key: the slip explains
 * a field then missing), else a missing one ("missing field `dst`"); with the
 * dotted path of the object holding it. undefined when there is neither.
 */
export function keyIssue(
  schema: v.GenericSchema,
  issues: readonly v.BaseIssue<unknown>[],
): { message: string; hint: string | undefined; parent: string } | undefined {
  const keyOf = (i: v.BaseIssue<unknown>) => {
    const last = i.path?.[i.path.length - 1];
    return i.type === "strict_object" && last?.origin === "key" && typeof last.key === "string" ? last.key : undefined;
  };
  const unknown = issues.find((i) => keyOf(i) !== undefined && i.expected === "never");
  const issue = unknown ?? issues.find((i) => keyOf(i) !== undefined && i.received === "undefined");
  const key = issue && keyOf(issue);
  if (!issue || key === undefined) return;
  const parents = (issue.path ?? []).slice(0, -1).map((p) => p.key as string | number);
  const parent = parents.filter((p) => typeof p === "string").join(".");
  if (!unknown) return { message: `missing field \`${key}\``, hint: undefined, parent };
  const near = closest(key, keysAt(schema as AnySchema, parents));
  return {
    message: `unknown field \`${key}\``,
    hint: near === undefined ? undefined : `did you mean \`${near}\`?`,
    parent,
  };
}
