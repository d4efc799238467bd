/** isolate check [--json]: what this host and user can do, each "no" with its remedy. */
import { checkHost, type HostReport } from "../../host/check.ts";
import { flagNamer, stdout } from "../output.ts";
import { smallArgs } from "./args.ts";

export function formatReport(r: HostReport): string {
  const who = `${r.user.name ?? `uid ${r.user.uid}`} (uid ${r.user.uid}${r.user.root ? ", root" : ""})`;
  const lines = [`isolate check: ${who}`];
  const width = Math.max(...r.items.map((i) => i.id.length));
  for (const i of r.items) {
    const mark = i.ok ? "yes" : "no ";
    const tag = !i.ok && !i.required ? "  [optional]" : "";
    lines.push(`  ${mark}  ${i.id.padEnd(width)}  ${i.value}${tag}`);
    if (!i.ok && i.remedy) lines.push(`  ${" ".repeat(3)}  ${" ".repeat(width)}  -> ${i.remedy}`);
  }
  lines.push(
    r.ok
      ? "result: everything the default sandbox needs works here"
      : `result: the default sandbox cannot run here: ${r.items
          .filter((i) => i.required && !i.ok)
          .map((i) => i.id)
          .join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

export async function checkMain(argv: readonly string[]): Promise<number> {
  const a = smallArgs("check", argv, ["--json"]);
  if (a.help) return (await import("../help.ts")).printHelp("check");
  const report = checkHost(undefined, flagNamer);
  stdout().write(a.flags.has("--json") ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}
