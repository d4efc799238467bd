/** The environment the command gets, and the exec op. */

import type { Spec } from "../../config/schema.ts";
import { hasEscapes, osEnvEntry, unnamedEnv } from "../../host/bytes.ts";
import type { Host } from "../../host/probe.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";

/** Kept from the caller's environment unless --inherit-env. */
export const ENV_ALLOWLIST = ["PATH", "HOME", "TERM", "LANG", "TZ", "USER", "LOGNAME"] as const;
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const allowed = (name: string) => (ENV_ALLOWLIST as readonly string[]).includes(name) || name.startsWith("LC_");

/** Names and values are OS strings (src/host/bytes.ts): bytes that are not UTF-8 pass through as they are. */
export function commandEnv(spec: Spec, host: Host): Map<string, string> {
  const caller = new Map<string, string>();
  for (const [name, value] of Object.entries(host.env)) {
    if (value === undefined) continue;
    const [n, v] = osEnvEntry(name, value);
    caller.set(n, v);
  }
  // Names that are not UTF-8 are missing from process.env: read them only when they may be wanted.
  if (spec.inheritEnv || spec.env.some((e) => e.value === undefined && hasEscapes(e.name))) {
    for (const [n, v] of unnamedEnv()) if (!caller.has(n)) caller.set(n, v);
  }
  const env = new Map<string, string>();
  for (const [name, value] of caller) if (spec.inheritEnv || allowed(name)) env.set(name, value);
  for (const e of spec.env) {
    const value = e.value ?? caller.get(e.name);
    if (value !== undefined) env.set(e.name, value);
  }
  return env;
}

export function execOps(r: Resolved): Op[] {
  const env = r.env;
  return [
    op("exec", {
      path: env.get("PATH") ?? DEFAULT_PATH,
      argv: r.spec.command,
      env: [...env].map(([k, v]) => `${k}=${v}`),
    }),
  ];
}
