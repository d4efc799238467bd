/**
 * The namespaces a Spec may `share` (keep the host's) or `unshare` (create).
 *
 * @example
 * run({ command: ["ip", "addr"], share: ["net"] }); // the host's network
 */
export const NAMESPACES = ["pid", "mount", "uts", "ipc", "net", "cgroup", "user", "time"] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** New by default; `user` ("auto") too, except for root outside the initial user namespace or with --user (src/facilities/namespaces/ops.ts). */
export const DEFAULT_NAMESPACES: readonly Namespace[] = ["pid", "mount", "uts", "ipc", "net", "cgroup"];
