/**
 * The function libraries' replicated effect: `FUNCTION LOAD REPLACE <code>`, `FUNCTION DELETE
 * <name>`, `FUNCTION FLUSH`, each an absolute change, applied over whatever state a replica has
 * (functions.ts `apply`). Not about a key: WATCH sees no key written by it.
 */
import { fromBytes } from "../bytes";
import { type FunctionChange, defineGlobalEffect } from "../replication/effect";

export const functionEffect = defineGlobalEffect<FunctionChange>({
  name: "FUNCTION",
  rows: 2,
  writesEveryKey: false,
  encode: (change) => (change.op === "flush" ? ["FLUSH"] : change.op === "delete" ? ["DELETE", change.name] : ["LOAD", "REPLACE", change.code]),
  decode: (args) => {
    const sub = fromBytes(args[0] ?? new Uint8Array()).toUpperCase();
    if (sub === "FLUSH") return { op: "flush" };
    if (sub === "DELETE") return { op: "delete", name: fromBytes(args[1]!) };
    if (sub === "LOAD") return { op: "load", code: fromBytes(args[args.length - 1]!) };
    throw new Error(`replication: unknown effect FUNCTION ${sub}`);
  },
  example: { op: "delete", name: "lib" },
  apply: (host, change) => host.functions(change),
});
