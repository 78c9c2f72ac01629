// The conformance cases through the HTTP API, served by the node Durable Object.
import { beforeEach, describe, it } from "vitest";
import { cases } from "../conformance/cases";
import { expectStep } from "../conformance/match";
import { call, redis } from "../support/helpers";

describe("conformance: HTTP API and node", () => {
  beforeEach(async () => {
    await redis("FLUSHALL");
  });
  for (const c of cases) {
    it(c.name, async () => {
      for (const step of c.steps) expectStep(step, (await call(step.cmd)).json);
    });
  }
});
