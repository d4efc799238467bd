/**
 * dist/isolate starts with a reluctant JIT (scripts/build-binary.ts: startup
 * code runs once). Once a sandbox runs, the process may live for hours (a
 * long command, a monitor, a pty relay): back to the normal policy.
 */
export function interactive(): void {
  Bun.unsafe.setJITPolicy(1);
}
