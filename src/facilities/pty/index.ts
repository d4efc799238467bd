/** The pty facility: its field, the terminal opened from the sandbox's devpts and attached to the command. */
import type { Facility } from "../facility.ts";
import { normalizePty, PTY_FIELDS } from "./fields.ts";
import { ptyAttachOps, ptyOpenOps } from "./ops.ts";

export const pty = {
  name: "pty" as const,
  fields: { entries: PTY_FIELDS, normalize: (p) => (p.pty === false ? {} : { pty: normalizePty(p.pty) }) },
  plan: ({ resolved }) => ({ ptyOpen: ptyOpenOps(resolved.spec), ptyAttach: ptyAttachOps(resolved.spec) }),
  describe: {
    ptyOpen: (o) =>
      `a terminal from the sandbox's devpts (${o.args.rows}x${o.args.cols}), its master to the supervisor`,
    ptyAttach: () => "the terminal: controlling terminal, stdin, stdout, stderr",
  },
} satisfies Facility<typeof PTY_FIELDS>;
