import { toBytes } from "../bytes";
import { defineCommand } from "../command";

/** RANDOMKEY @see https://redis.io/docs/latest/commands/randomkey/ */
export default defineCommand({
  name: "randomkey",
  arity: 1,
  flags: ["readonly"],
  keys: null,
  parse: () => null,
  run: ({ db, server }) => {
    const k = db.randomKey(() => server.random.next());
    return k === null ? null : toBytes(k);
  },
});
