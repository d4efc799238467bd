/**
 * `isolate ... | head` (issue 15): once the reader has gone, isolate ends as
 * SIGPIPE would (141) without a stack trace, whatever the command (one handler
 * in src/cli/output.ts).
 */
import { expect, test } from "bun:test";
import { BIN, sh } from "../helpers/index.ts";

for (const args of [["check"], ["--help"], ["plan", "--", "true"], ["clean", "--dry-run"]]) {
  test(`isolate ${args.join(" ")} into a closed pipe: quiet, 141 (or 0 with nothing to write)`, async () => {
    // The reader closes its stdin at once; isolate's stderr is what the test reads.
    const quoted = args.map((a) => `'${a}'`).join(" ");
    const r = await sh(["bash", "-c", `'${BIN}' ${quoted} | (exec 0<&-; sleep 0.3); echo "\${PIPESTATUS[0]}"`]);
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.stderr).not.toContain(" at ");
    expect(r.stderr).toBe("");
    // clean --dry-run writes nothing when there is nothing left over.
    expect(args[0] === "clean" ? ["0", "141"] : ["141"]).toContain(r.stdout.trim());
  });
}
