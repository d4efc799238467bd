/** What `isolate check` says of the cgroups the limits use: the layout, and what this user may do with each controller. */
import type { CheckItem } from "../../host/check.ts";
import type { CheckContext } from "../facility.ts";

/** Controllers isolate's limits use (v2 names and their v1 counterparts); the report lists all. */
const LIMIT_CONTROLLERS = ["memory", "cpu", "cpuacct", "cpuset", "pids", "io", "blkio", "freezer"];

export function checkLimits({ host, layout: cgroups }: CheckContext): CheckItem[] {
  const items: CheckItem[] = [];
  // cgroups: layout and what this user may do there (limits need it; the default sandbox does not).
  const v1 = [...new Set(cgroups.controllers.filter((c) => c.version === "v1").map((c) => c.controller))];
  items.push({
    id: "cgroup.layout",
    ok: cgroups.mode !== "none",
    required: false,
    value:
      cgroups.mode === "none"
        ? "no cgroup filesystem mounted"
        : `${cgroups.mode}${cgroups.v2 ? `; cgroup2 at ${cgroups.v2.mountPoint}, controllers: ${cgroups.v2.controllers.join(" ") || "none"}` : ""}${v1.length ? `; v1: ${v1.join(" ")}` : ""}`,
    remedy: "mount cgroup2 at /sys/fs/cgroup (limits need cgroups)",
  });
  for (const c of cgroups.controllers) {
    if (!LIMIT_CONTROLLERS.includes(c.controller)) continue;
    const where = c.version === "none" ? "not mounted" : `${c.version}, cgroup ${c.cgroup} (${c.dir})`;
    const usable = c.version !== "none" && (c.version === "v1" || c.enabled !== false) && (c.writable || c.delegated);
    const access = c.delegated ? "delegated" : c.writable ? "writable" : "not writable";
    const enabled = c.version === "v2" && c.enabled === false ? ", not enabled in this cgroup" : "";
    items.push({
      id: `cgroup.${c.controller}`,
      ok: usable,
      required: false,
      value: c.version === "none" ? where : `${where}: ${access}${enabled}`,
      remedy:
        c.version === "none"
          ? `no hierarchy has the ${c.controller} controller: limits using it cannot be enforced`
          : host.root
            ? `enable it in the parent's cgroup.subtree_control`
            : "limits without root need a delegated cgroup v2 subtree (e.g. systemd-run --user --scope -p Delegate=yes isolate ..., or a cgroup root created and chowned to you)",
    });
  }

  return items;
}
