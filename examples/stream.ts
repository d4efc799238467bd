/**
 * A streaming client: feed a sandboxed filter as it goes and print its output as it comes.
 * `bun examples/stream.ts` upper-cases three lines through `tr` in a sandbox.
 */
import { spawn } from "../src/index.ts";

await using sb = spawn({ command: ["tr", "a-z", "A-Z"] }, { stdin: "pipe", stdout: "pipe", timeout: "10s" });
const printing = (async () => {
  for await (const chunk of sb.stdout ?? []) process.stdout.write(chunk);
})();
for (const line of ["one\n", "two\n", "three\n"]) {
  // Resolves once the filter has taken the bytes: a fast producer waits for a slow consumer.
  await sb.stdin?.write(line);
}
await sb.stdin?.end();
await printing;
const r = await sb.exited;
console.error(`exit ${r.exitCode}, reason ${r.reason}`);
