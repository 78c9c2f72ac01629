// Differential fuzzing against redis-servers that are not installed: transcripts of their side of
// seeded programs (test/data/fuzz-redis-*.json.gz, recorded with `npm run fuzz -- --record`, each
// built from source: 7.4.1 from Redis's repository, 8.0.6 from Debian's source package), replayed
// in their place against the real worker. They cover what Debian's 7.0 cannot judge: hash-field
// deadlines (HEXPIRE and its kin; Redis 8's HGETDEL, HGETEX, HSETEX), in programs drawn from
// hashes and key commands only so that fields have deadlines to read, and 7.4's and 8.0's own
// semantics over every family (known-differences.ts applies what each version calls for). Every reply is compared as in
// differential.test.ts; TTLs and deadlines allow for the time between recording and replay
// (compare.ts, Skew). A program that diverges ends there: the recording holds nothing past it.
// To record again: FLAREDIS_REDIS_SERVER=<its redis-server> npm run fuzz -- --via-dev-proxy --seeds
// 1-5 --record FILE, then --seeds 101-110 --families serverAndKeys,hashes,hashTtl --record FILE
// (8.0.6: seeds 201-210 of those families, then 1-5).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlaredis } from "../e2e/start";
import { FlaredisClient } from "./fuzz/clients";
import { Differential } from "./fuzz/runner";
import { Findings, formatFinding, runSeed } from "./fuzz/session";
import { Replay } from "./fuzz/transcript";

const TRANSCRIPTS = ["test/data/fuzz-redis-7.4.1.json.gz", "test/data/fuzz-redis-8.0.6.json.gz"].map((file) => Replay.load(file));

let flaredis: { url: string; dispose(): Promise<void> } | undefined;
const findings = new Findings();

beforeAll(async () => {
  flaredis = await startFlaredis();
});
afterAll(async () => {
  await flaredis?.dispose();
});

describe.each(TRANSCRIPTS.map((replay) => ({ replay, version: replay.transcript.redisVersion })))(
  "differential fuzzing against redis-server $version, recorded",
  ({ replay }) => {
    const programs = replay.transcript.seeds.map((p, index) => ({ index, name: `seed ${p.seed}${p.families ? ` (${p.families.join(", ")})` : ""}` }));

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
      const d = new Differential(replay, new FlaredisClient(flaredis!.url), replay.transcript.redisVersion);
      const result = await runSeed(d, program.seed, findings, {
        ops: program.ops,
        redisVersion: replay.transcript.redisVersion,
        ...(program.families ? { families: program.families } : {}),
        minimize: false,
        stopAtDivergence: true,
      });
      const lines = result.signatures.map((signature) => formatFinding(findings.byClass.get(signature)!, [...findings.byClass.keys()].indexOf(signature) + 1));
      if (lines.length > 0) expect.fail(`seed ${program.seed} diverged from the recorded redis-server ${replay.transcript.redisVersion}:\n\n${lines.join("\n\n")}\n`);
      expect(replay.remaining).toBe(0); // every recorded call was asked for
    }, 300_000);
  },
);
