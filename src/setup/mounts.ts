/** The filesystem view: for now, a /proc that matches the new pid namespace. */
import type { Host } from "../host/probe.ts";
import { type Op, op } from "../plan/op.ts";
import type { Spec } from "../spec/schema.ts";
import { newNamespaces } from "./namespaces.ts";

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  PRIVATE: 0x40000,
} as const;

export function mountOps(spec: Spec, host: Host): Op[] {
  const fresh = newNamespaces(spec, host);
  if (!fresh.includes("mount") || !fresh.includes("pid")) return [];
  return [
    op("mount", {
      source: "proc",
      target: "/proc",
      fstype: "proc",
      flags: MS.NOSUID | MS.NODEV | MS.NOEXEC,
      data: "",
    }),
  ];
}
