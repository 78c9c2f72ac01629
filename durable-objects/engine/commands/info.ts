import { toBytes } from "../bytes";
import { defineCommand } from "../command";

/** INFO [section ...] @see https://redis.io/docs/latest/commands/info/ */
export default defineCommand({
  name: "info",
  arity: -1,
  flags: ["readonly"],
  keys: null,
  parse: (sections) => sections,
  run: ({ server }, sections) => toBytes(server.info(sections)),
});
