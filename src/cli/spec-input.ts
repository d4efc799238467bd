/** The Spec of `isolate exec` and `isolate plan`: the profiles, then the flags, through parseSpec. */
import { parseSpec } from "../config/parse.ts";
import type { Spec } from "../config/schema.ts";
import { CLI_SPEC_DEFAULTS, type Scanned } from "./flags.ts";

export async function buildSpec(s: Scanned): Promise<{ spec: Spec; profiles: string[] }> {
  if (s.cli.profiles.length === 0) return { spec: parseSpec(s.draft, undefined, CLI_SPEC_DEFAULTS), profiles: [] };
  const { applyProfiles } = await import("./profile.ts");
  const { input, profiles } = applyProfiles(s.cli.profiles, s.draft);
  return { spec: parseSpec(input, undefined, CLI_SPEC_DEFAULTS), profiles: profiles.map((p) => p.path) };
}
