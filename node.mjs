// The package's entry under Node: isolate runs sandboxes through bun:ffi, which only Bun has.
// The names are the library's (test/library/package.test.ts keeps them in step), so that
// `import { run } from "isolate"` reaches this line instead of failing to link.
throw new Error("isolate needs Bun: it uses bun:ffi, which Node does not have (run your program with bun)");

export let
  CgroupError,
  DEFAULT_MAX_OUTPUT,
  HostError,
  IsolateError,
  NAMESPACES,
  OUTPUT_BUDGET,
  SpecError,
  checkHost,
  cleanLeftovers,
  compilePlan,
  describeOp,
  encodePlan,
  list,
  open,
  parseSpec,
  probeHost,
  resolveSandbox,
  run,
  runSpec,
  spawn,
  spawnNamed,
  spawnSpec;
