/** "Take the newer topology": the one rule the nodes, the sentinels and the worker follow. */
import { describe, expect, it } from "vitest";
import { newerTopology, promoted, type Topology } from "../../durable-objects/protocol/topology";

const configured: Topology = { epoch: 1, primary: "enam", replicas: ["weur", "apac"] };

describe("newer topology", () => {
  it("is taken only with a higher epoch", () => {
    const next = promoted(configured, "weur");
    expect(newerTopology(configured, next)).toBe(next);
    expect(newerTopology(next, configured)).toBeNull();
    expect(newerTopology(next, next)).toBeNull();
    expect(newerTopology(configured, null)).toBeNull();
    expect(newerTopology(configured, undefined)).toBeNull();
  });

  it("of other nodes is refused where the nodes are given (another deployment's), and taken where they are not", () => {
    const other: Topology = { epoch: 5, primary: "enam", replicas: ["weur"] };
    expect(newerTopology(configured, other, configured)).toBeNull();
    expect(newerTopology(configured, other)).toBe(other);
    const next = promoted(configured, "apac", 3);
    expect(newerTopology(configured, next, configured)).toBe(next);
  });
});
