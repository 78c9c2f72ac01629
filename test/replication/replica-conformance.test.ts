// The conformance cases with every read served by a replica after it synced: each write goes to
// the primary through the HTTP API, and each read-only command runs on the replica weur once it
// has the primary's offset, which must answer as the primary would (issue 15: "the conformance
// cases run ... on a replica after a sync (reads)").
import { beforeEach, describe, it } from "vitest";
import { Engine } from "../../durable-objects/engine/engine";
import { toJsonOutcome } from "../../worker/reply";
import { cases } from "../conformance/cases";
import { expectStep } from "../conformance/match";
import { call, nodeApi, redis } from "../support/helpers";
import { fromText } from "../../durable-objects/engine/bytes";

describe("conformance: reads on a replica after a sync", () => {
  beforeEach(async () => {
    await redis("FLUSHALL");
    await nodeApi("weur").catchUp();
  });
  for (const c of cases) {
    it(c.name, async () => {
      for (const step of c.steps) {
        const argv = step.cmd.map(String).map(fromText);
        if (!Engine.isRead(argv)) {
          expectStep(step, (await call(step.cmd)).json);
          continue;
        }
        await nodeApi("weur").catchUp();
        const reply = await nodeApi("weur").execute({ mode: "single", commands: [argv], permission: "admin" });
        if (!("outcomes" in reply.result)) throw new Error(reply.result.error);
        expectStep(step, toJsonOutcome(reply.result.outcomes[0]!, false) as { result?: unknown; error?: string });
      }
    });
  }
});
