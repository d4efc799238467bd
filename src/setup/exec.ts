/** The environment the command gets, and the exec op. */
import type { Host } from "../host/probe.ts";
import { type Op, op } from "../plan/op.ts";
import type { Spec } from "../spec/schema.ts";

/** Kept from the caller's environment unless --inherit-env. */
export const ENV_ALLOWLIST = ["PATH", "HOME", "TERM", "LANG", "TZ", "USER", "LOGNAME"] as const;
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const allowed = (name: string) => (ENV_ALLOWLIST as readonly string[]).includes(name) || name.startsWith("LC_");

export function commandEnv(spec: Spec, host: Host): Map<string, string> {
  const env = new Map<string, string>();
  for (const [name, value] of Object.entries(host.env)) {
    if (value !== undefined && (spec.inheritEnv || allowed(name))) env.set(name, value);
  }
  for (const e of spec.env) {
    const value = e.value ?? host.env[e.name];
    if (value !== undefined) env.set(e.name, value);
  }
  return env;
}

export function execOps(spec: Spec, host: Host): Op[] {
  const env = commandEnv(spec, host);
  return [
    op("exec", {
      path: env.get("PATH") ?? DEFAULT_PATH,
      argv: spec.command,
      env: [...env].map(([k, v]) => `${k}=${v}`),
    }),
  ];
}
