/**
 * `npm run fuzz -- --seed N --ops M`: the differential fuzzer for long runs. Starts the real
 * worker and a redis-server of its own (or uses `--url` / `--redis-port`), runs each seed's
 * program on both, prints progress, then every class of divergence found, minimized to a
 * replayable case. Exit 1 on any divergence. The worker is reached at the runtime's own address
 * (as the bench does: 4× faster than through wrangler's dev proxy); `--via-dev-proxy` starts it
 * as the interop check does.
 *
 *   npm run fuzz -- --seed 7 --ops 20000
 *   npm run fuzz -- --seeds 1-10 --ops 2000           (what the interop check runs)
 *   npm run fuzz -- --replay '[["SET","k0","1"],{"multi":[["INCR","k0"]]}]'
 *   npm run fuzz -- --binary                          (arguments that are not UTF-8: issue 32)
 *   npm run fuzz -- --scripted                        (commands inside Lua scripts too: issue 25)
 *   npm run fuzz -- --no-minimize --budget-ms 20000
 *   FLAREDIS_REDIS_SERVER=/path/to/7.4/redis-server npm run fuzz -- --seeds 1-10 --via-dev-proxy --record FILE
 *                         (a transcript of redis-server's side, transcript.ts; added to FILE's programs if it exists)
 *   npm run fuzz -- --seeds 101-110 --families serverAndKeys,hashes,hashTtl ...   (programs of some families only)
 *   npm run fuzz -- --families serverAndKeys,strings,streams   (streams, and keys of another type: not in the default programs)
 *   npm run fuzz -- --via-dev-proxy --transcript FILE   (replays every program of one, the recording in redis-server's place)
 */
import { parseArgs } from "node:util";
import { forgivenCounts } from "./known-differences.ts";
import type { Step } from "./reply.ts";
import { Findings, formatFindings, replayVerbose, runSeed } from "./session.ts";
import { startSystems } from "./systems.ts";
import { Replay } from "./transcript.ts";
import { existsSync } from "node:fs";
import type { Family } from "./generator.ts";

const { values: args } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    ops: { type: "string", default: "2000" },
    binary: { type: "boolean", default: false },
    "no-minimize": { type: "boolean", default: false },
    "budget-ms": { type: "string", default: "60000" },
    replay: { type: "string" },
    url: { type: "string" },
    "redis-port": { type: "string" },
    "via-dev-proxy": { type: "boolean", default: false },
    record: { type: "string" },
    transcript: { type: "string" },
    families: { type: "string" },
    scripted: { type: "boolean", default: false },
  },
});

/** "7", "1-10" or "1,4,9". */
function seedList(): number[] {
  const text = args.seeds ?? args.seed ?? "1";
  return text.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

const systems = await startSystems({
  url: args.url,
  redisPort: args["redis-port"] === undefined ? undefined : Number(args["redis-port"]),
  runtime: args["via-dev-proxy"] ? "e2e" : "direct",
  ...(args.record === undefined ? {} : { record: existsSync(args.record) ? Replay.load(args.record).transcript : true }),
  ...(args.transcript === undefined ? {} : { transcript: Replay.load(args.transcript) }),
});
const { recording, replay } = systems;
let failed = false;
try {
  const d = systems.differential;
  console.log(`flaredis ${systems.flaredisUrl} against redis-server ${systems.redisVersion}; known differences applied: ${d.differences.map((x) => x.name).join("; ") || "none"}`);
  if (args.replay !== undefined) {
    const steps = JSON.parse(args.replay) as Step[];
    failed = (await replayVerbose(d, steps, (line) => console.log(line))) > 0;
  } else {
    const findings = new Findings();
    const ops = Number(args.ops);
    const results = [];
    const families = args.families?.split(",") as Family[] | undefined;
    // A transcript's programs are replayed all, each as it was recorded.
    const programs = replay
      ? replay.transcript.seeds.map((p, index) => ({ ...p, index }))
      : seedList().map((seed) => ({ seed, ops, families, index: 0 }));
    for (const { seed, ops, families, index } of programs) {
      let last = Date.now();
      recording?.beginSeed(seed, ops, families);
      replay?.begin(index);
      const result = await runSeed(d, seed, findings, {
        ops,
        redisVersion: systems.redisVersion,
        binary: args.binary,
        scripted: args.scripted,
        ...(families ? { families } : {}),
        // Minimizing asks redis-server what a recording could not hold.
        minimize: !args["no-minimize"] && !recording && !replay,
        stopAtDivergence: replay !== undefined,
        budget: { replays: 1000, ms: Number(args["budget-ms"]) },
        onProgress: (done, divergences) => {
          if (Date.now() - last < 5000 && done < ops) return;
          last = Date.now();
          console.log(`seed ${seed}: ${done}/${ops} commands, ${divergences} divergences, ${findings.size} classes so far`);
        },
      });
      results.push(result);
      // A replay that ended clean must have asked every call the recording holds.
      if (replay && result.signatures.length === 0 && replay.remaining > 0) {
        console.log(`seed ${seed}: ${replay.remaining} recorded calls were never asked: the program is not the one recorded`);
        failed = true;
      }
      console.log(
        `seed ${seed}: ${result.ops} commands in ${(result.runMs / 1000).toFixed(1)} s (${(result.runMs / result.ops).toFixed(2)} ms each), ` +
          `${result.signatures.length} classes of divergence${result.minimizeMs > 0 ? `, ${(result.minimizeMs / 1000).toFixed(1)} s minimizing` : ""}`,
      );
    }
    console.log(`\n${results.length} seeds, ${results.reduce((n, r) => n + r.ops, 0)} commands: ${findings.size} classes of divergence`);
    for (const [name, n] of forgivenCounts) console.log(`known difference "${name}": forgiven ${n} times`);
    if (findings.size > 0) console.log(`\n${formatFindings(findings)}`);
    failed ||= findings.size > 0;
    if (recording && !failed) {
      recording.save(args.record!);
      console.log(`transcript of redis-server ${systems.redisVersion}'s side written to ${args.record}`);
    } else if (recording) console.log("no transcript written: a recording must hold a run without divergence");
  }
} finally {
  await systems.stop();
}
process.exit(failed ? 1 : 0);
