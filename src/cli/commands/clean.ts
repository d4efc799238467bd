/** isolate clean [--dry-run]: remove cgroups left behind by isolate processes that died. */
import { type ArgsDef, defineCommand } from "citty";
import { cleanLeftovers } from "../../cgroup/clean.ts";

export const cleanCommand = defineCommand({
  meta: {
    name: "clean",
    description:
      "remove cgroups (isolate-<pid>-<n>) left by isolate processes that died, e.g. SIGKILLed, and the state of named sandboxes whose monitor died; live ones are never touched",
  },
  args: {
    "dry-run": { type: "boolean", description: "list what would be removed, remove nothing" },
  } as ArgsDef,
  async run({ args }) {
    const dryRun = Boolean(args["dry-run"]);
    // Named sandboxes whose monitor died: their state (their cgroups are leftovers below).
    const { cleanDead } = await import("../../named/control.ts");
    for (const name of cleanDead(dryRun))
      process.stdout.write(`${dryRun ? "would remove" : "removed"} sandbox ${name}\n`);
    const r = await cleanLeftovers({ dryRun });
    for (const p of r.removed) process.stdout.write(`${dryRun ? "would remove" : "removed"} ${p}\n`);
    for (const f of r.failed) process.stderr.write(`isolate: clean: ${f.path}: ${f.why}\n`);
    return r.failed.length > 0 ? 125 : 0;
  },
});
