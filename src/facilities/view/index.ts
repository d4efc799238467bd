/** The filesystem view: its fields, its mount ops, the scratch directories its overlays need. */
import { field as specField } from "../../errors.ts";
import type { Describers, Facility } from "../facility.ts";
import { describeViewOp, VIEW_OPS } from "./describe.ts";
import { normalizeView, VIEW_FIELDS } from "./fields.ts";
import { viewHooks } from "./hooks.ts";
import { mountOps } from "./ops.ts";

export const view = {
  name: "view" as const,
  fields: {
    entries: VIEW_FIELDS,
    normalize(p, { cwdMount }) {
      const v = normalizeView(p as never, cwdMount);
      return "error" in v ? v.error : { ...v, unmask: p.unmask };
    },
    validate(p, spec) {
      if (!spec.namespaces.mount && (spec.mounts.length > 0 || spec.rootfs !== undefined || p.cwdMount !== undefined)) {
        return [
          "share",
          `the filesystem view (mounts, rootfs, cwd) needs a new mount namespace (do not ${specField("share", "mount")})`,
        ];
      }
      return undefined;
    },
  },
  plan: ({ resolved, cgroups }) => ({ view: mountOps(resolved, cgroups) }),
  hooks: viewHooks,
  describe: Object.fromEntries(VIEW_OPS.map((name) => [name, describeViewOp])) as Describers,
} satisfies Facility<typeof VIEW_FIELDS>;
