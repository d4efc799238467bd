/** The command's process (command, env and cwd are core Spec fields): its session, keyring, directory and exec. */
import { quoteOs } from "../../host/bytes.ts";
import type { Facility } from "../facility.ts";
import { execOps } from "./exec.ts";
import { processOps } from "./ops.ts";

export const processFacility = {
  name: "process" as const,
  plan: ({ resolved }) => ({ process: processOps(resolved), exec: execOps(resolved) }),
  describe: {
    setsid: () => "new session",
    keyring: () => "new session keyring",
    chdir: (o) => `chdir ${quoteOs(o.args.dir)}`,
    exec: (o) => `exec ${quoteOs(o.args.argv[0] ?? "")}`,
  },
} satisfies Facility;
