/**
 * The monitor of a sandbox the library detached (spawnNamed with detach):
 * `bun src/named/monitor-entry.ts`, a request { name, spec } on stdin
 * (src/named/supervise.ts). The CLI's monitor is `isolate __monitor`.
 */
import { parseSpec } from "../config/parse.ts";
import type { SpecInput } from "../config/schema.ts";
import { monitorMain, superviseNamed } from "./supervise.ts";

const code = await monitorMain(async (request, ready) => {
  const spec = parseSpec(request.spec as SpecInput);
  const result = await superviseNamed(spec, { name: String(request.name), detached: true, ready });
  if (result.error) process.stderr.write(`isolate: ${result.error.message}\n`);
  return result.exitCode;
}).catch((e) => {
  process.stderr.write(`isolate: ${e instanceof Error ? e.message : String(e)}\n`);
  return 125;
});
process.exit(code);
