/**
 * The crash run (issue 23): `npm run crash -- [--crashes N] [--seed S] [--writers W] [--port P] [--keep]`.
 * kill -9 of `wrangler dev` at random moments under a mixed writer, at least N crashes; after
 * each restart every acknowledged write present once and the four nodes' digests equal (see
 * harness.ts). Loopback only, bounded in time (a few seconds a crash), seeded. The last line
 * printed is the summary; the exit code is 1 on any violation. Also run by `npm run chaos`.
 */
import { parseArgs } from "node:util";
import { runCrash } from "./harness.ts";

const { values: args } = parseArgs({
  options: {
    crashes: { type: "string", default: "20" },
    seed: { type: "string" },
    writers: { type: "string", default: "4" },
    port: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const crashes = Number(args.crashes);
const writers = Number(args.writers);
if (!(Number.isInteger(crashes) && crashes >= 1 && crashes <= 1000)) throw new Error("--crashes must be an integer between 1 and 1000");
if (!(Number.isInteger(writers) && writers >= 1 && writers <= 64)) throw new Error("--writers must be an integer between 1 and 64");
const result = await runCrash({
  crashes,
  writers,
  keep: args.keep,
  ...(args.seed === undefined ? {} : { seed: Number(args.seed) }),
  ...(args.port === undefined ? {} : { port: Number(args.port) }),
});
console.log(result.summary);
process.exit(result.ok ? 0 : 1);
