/** Flags for capabilities, identity, user namespace maps and seccomp (spread into FLAGS). */

import type { FlagDef } from "../../cli/flags.ts";
import { SpecError } from "../../errors.ts";
import { osPath } from "../../host/bytes.ts";
import { nodeFs } from "../../host/files.ts";

const list = (v: string) => v.split(",").map((s) => s.trim());

/** --seccomp FILE: the file's JSON goes into the Spec as it is; the schema validates it. */
function readPolicy(file: string): unknown {
  let text: string;
  try {
    text = nodeFs().readFileSync(osPath(file), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new SpecError(`--seccomp ${file}: cannot read it (${code})`, 'use "default", "none" or a JSON policy file');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpecError(`--seccomp ${file}: not valid JSON: ${(e as Error).message}`);
  }
}

export const HARDENING_FLAGS: readonly FlagDef[] = [
  {
    name: "--cap-add",
    value: "CAP[,CAP...]",
    field: "capAdd",
    description: "keep these capabilities (e.g. CAP_NET_BIND_SERVICE, or ALL); default: none at all",
    apply: (d, _c, v) => {
      d.capAdd = [...(d.capAdd ?? []), ...list(v)];
    },
  },
  {
    name: "--user",
    value: "UID[:GID]",
    field: "user",
    description: "run as this host uid (root only), with GID (default: UID) as the only group",
    apply: (d, _c, v) => {
      d.user = v;
    },
  },
  {
    name: "--uid",
    value: "UID",
    field: "uid",
    description: "uid inside a (new) user namespace; default: your own; 0 appears as root",
    apply: (d, _c, v) => {
      d.uid = /^\d+$/.test(v) ? Number(v) : (v as never);
    },
  },
  {
    name: "--gid",
    value: "GID",
    field: "gid",
    description: "gid inside a (new) user namespace; default: --uid's value, else your own",
    apply: (d, _c, v) => {
      d.gid = /^\d+$/.test(v) ? Number(v) : (v as never);
    },
  },
  {
    name: "--userns",
    value: "auto|host",
    field: "userns",
    description:
      "auto: also map your /etc/subuid and /etc/subgid ranges (through newuidmap/newgidmap); host: keep the host's user namespace (as root: host root without capabilities, with a warning)",
    apply: (d, _c, v) => {
      d.userns = v as never;
    },
  },
  {
    name: "--map-uid",
    value: "IN:OUT:COUNT",
    field: "mapUid",
    description: "map COUNT uids from OUT (outside) to IN (inside); repeatable; replaces the default map",
    apply: (d, _c, v) => {
      d.mapUid = [...(d.mapUid ?? []), v];
    },
  },
  {
    name: "--map-gid",
    value: "IN:OUT:COUNT",
    field: "mapGid",
    description: "the same for gids",
    apply: (d, _c, v) => {
      d.mapGid = [...(d.mapGid ?? []), v];
    },
  },
  {
    name: "--landlock",
    value: "on|off|auto",
    field: "landlock",
    description:
      "Landlock around the command: writes only where the view allows, no signals or abstract sockets out of the sandbox (default auto: where the kernel has it; on: refuse to run without it)",
    apply: (d, _c, v) => {
      d.landlock = v as never;
    },
  },
  {
    name: "--seccomp",
    value: "default|none|FILE",
    field: "seccomp",
    description: "the syscall filter: isolate's default profile, none, or a JSON policy file",
    apply: (d, _c, v) => {
      d.seccomp = v === "default" || v === "none" ? v : (readPolicy(v) as never);
    },
  },
  {
    name: "--seccomp-allow",
    value: "NAME[,NAME...]",
    field: "seccompAllow",
    description: "allow these syscalls whatever the profile says (repeatable)",
    apply: (d, _c, v) => {
      d.seccompAllow = [...(d.seccompAllow ?? []), ...list(v)];
    },
  },
  {
    name: "--allow-nested",
    field: "allowNested",
    description:
      "let the command run sandboxes of its own (isolate, bwrap, podman): it may create user namespaces and mount inside them; /proc is not masked; as root the command runs as uid 65534 unless --uid says otherwise (uid 0 without CAP_SETFCAP cannot map itself)",
    apply: (d) => {
      d.allowNested = true;
    },
  },
  {
    name: "--seccomp-deny",
    value: "NAME[,NAME...]",
    field: "seccompDeny",
    description: "make these syscalls fail with EPERM (repeatable)",
    apply: (d, _c, v) => {
      d.seccompDeny = [...(d.seccompDeny ?? []), ...list(v)];
    },
  },
];
