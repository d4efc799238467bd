/**
 * The network's supervisor hooks (src/facilities/net/pasta.ts does the work):
 * pasta's checks before anything is created; its generated files bound into
 * the view (the Spec gains the binds); rules and pasta attached last before
 * GO (a failure there ends the init unreleased, and the run reports it: 125);
 * the files' directory removed once the command starts; the report at the
 * end; pasta ended and its descriptors closed on every path.
 */

import { IsolateError, field as specField } from "../../errors.ts";
import type { FacilityHooks } from "../../supervisor/hooks.ts";
import { type SetupFailure, setupFailure } from "../../supervisor/result.ts";
import { type Helpers, NetHook } from "./pasta.ts";

export function netHooks(): FacilityHooks {
  let helpers: Helpers | undefined;
  let net: NetHook | undefined;
  return {
    check(ctx) {
      helpers = NetHook.check(ctx.spec, ctx.host);
    },
    prepare(ctx) {
      net = NetHook.prepare(ctx.spec, ctx.host, helpers);
      ctx.spec = net.spec;
    },
    beforeGo(ctx, child) {
      if (!net?.active) return undefined;
      return net.attach(ctx.shim, child.pid).catch((e: Error) => ctx.refuse(netFailure(e)));
    },
    started() {
      net?.started();
    },
    async finish(ctx, result) {
      const network = net ? await net.finish(ctx.shim) : result.network;
      return { ...result, network };
    },
    cleanup(ctx) {
      return net?.close(ctx.shim);
    },
  };
}

function netFailure(e: Error): SetupFailure {
  // The raw words: the CLI names the fields as flags (supervisor/result.ts failureText).
  const words = e instanceof IsolateError ? e.text(specField) : e.message;
  return setupFailure({ index: -1, op: "net", what: "network", errno: 0, errnoName: "" }, words);
}
