/**
 * isolate clean [--dry-run]: remove cgroups left behind by isolate processes
 * that died, and --net pasta's generated-files directories of theirs.
 */
import { cleanLeftovers } from "../../cgroup/clean.ts";
import { sweepNetDirs } from "../../facilities/net/pasta.ts";
import { stderr, stdout } from "../output.ts";
import { smallArgs } from "./args.ts";

export async function cleanMain(argv: readonly string[]): Promise<number> {
  // Every argument is checked before anything is removed: `clean --help` only prints help.
  const a = smallArgs("clean", argv, ["--dry-run"]);
  if (a.help) return (await import("../help.ts")).printHelp("clean");
  const dryRun = a.flags.has("--dry-run");
  // Named sandboxes whose monitor died: their state (their cgroups are leftovers below).
  const { cleanDead } = await import("../../named/control.ts");
  for (const name of cleanDead(dryRun)) stdout().write(`${dryRun ? "would remove" : "removed"} sandbox ${name}\n`);
  const cg = await cleanLeftovers({ dryRun });
  const net = sweepNetDirs({ dryRun });
  const r = { removed: [...cg.removed, ...net.removed], failed: [...cg.failed, ...net.failed] };
  for (const p of r.removed) stdout().write(`${dryRun ? "would remove" : "removed"} ${p}\n`);
  for (const f of r.failed) stderr().write(`isolate: clean: ${f.path}: ${f.why}\n`);
  return r.failed.length > 0 ? 125 : 0;
}
