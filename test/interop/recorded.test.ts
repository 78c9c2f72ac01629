// Differential fuzzing against a redis-server that is not installed: a transcript of redis-server
// 7.4.1's side of seeded programs (test/data/fuzz-redis-7.4.1.json.gz, recorded with `npm run fuzz
// -- --record`, 7.4.1 built from source), replayed in its place against the real worker. It covers
// what Debian's 7.0 cannot judge: hash-field deadlines (HEXPIRE and its kin, programs drawn from
// hashes and key commands only, so that fields have deadlines to read) and 7.4's own semantics
// (the known differences before 7.4 do not apply). Every reply is compared as in
// differential.test.ts; TTLs and deadlines allow for the time between recording and replay
// (compare.ts, Skew). A program that diverges ends there: the recording holds nothing past it.
// To record again: FLAREDIS_REDIS_SERVER=<7.4.1's redis-server> npm run fuzz -- --via-dev-proxy
// --seeds 1-5 --record FILE, then --seeds 101-110 --families serverAndKeys,hashes,hashTtl --record FILE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Findings, formatFinding, runSeed } from "./fuzz/session";
import { type Systems, startSystems } from "./fuzz/systems";
import { Replay } from "./fuzz/transcript";

const TRANSCRIPT = "test/data/fuzz-redis-7.4.1.json.gz";
const replay = Replay.load(TRANSCRIPT);
const programs = replay.transcript.seeds.map((p, index) => ({ index, name: `seed ${p.seed}${p.families ? ` (${p.families.join(", ")})` : ""}` }));

let systems: Systems | undefined;
const findings = new Findings();

beforeAll(async () => {
  systems = await startSystems({ transcript: replay });
});
afterAll(async () => {
  await systems?.stop();
});

describe(`differential fuzzing against redis-server ${replay.transcript.redisVersion}, recorded`, () => {
  it("the transcript holds hash-field deadlines set and read", () => {
    // A transcript whose programs never gave a field a deadline would judge nothing of them.
    const set = programs.filter(({ index }) =>
      replay.transcript.seeds[index]!.entries.some((e) =>
        e.commands.some((c, i) => /^HP?EXPIRE(AT)?$/i.test(String(c[0])) && Array.isArray(e.replies[i]) && (e.replies[i] as unknown[]).includes(1n)),
      ),
    );
    expect(set.length).toBeGreaterThanOrEqual(5);
  });

  it.each(programs)("$name: answers as redis-server answered", async ({ index }) => {
    const program = replay.begin(index);
    const result = await runSeed(systems!.differential, program.seed, findings, {
      ops: program.ops,
      redisVersion: replay.transcript.redisVersion,
      ...(program.families ? { families: program.families } : {}),
      minimize: false,
      stopAtDivergence: true,
    });
    const lines = result.signatures.map((signature) => formatFinding(findings.byClass.get(signature)!, [...findings.byClass.keys()].indexOf(signature) + 1));
    if (lines.length > 0) expect.fail(`${program.seed} diverged from the recorded redis-server ${replay.transcript.redisVersion}:\n\n${lines.join("\n\n")}\n`);
    expect(replay.remaining).toBe(0); // every recorded call was asked for
  }, 300_000);
});
