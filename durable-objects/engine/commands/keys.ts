import { toBytes } from "../bytes";
import { defineCommand } from "../command";
import { globToRegExp } from "../glob";

const PAGE = 1000;

/** KEYS pattern: walks the whole keyspace in pages (heavy). @see https://redis.io/docs/latest/commands/keys/ */
export default defineCommand({
  name: "keys",
  arity: 2,
  flags: ["readonly", "heavy"],
  keys: null,
  parse: ([pattern]) => globToRegExp(pattern!),
  run: ({ db }, pattern) => {
    const out: Uint8Array[] = [];
    for (let after = 0; ; ) {
      const page = db.scan(after, PAGE);
      for (const row of page.rows) if (pattern.test(row.key)) out.push(toBytes(row.key));
      if (page.next === 0) return out;
      after = page.next;
    }
  },
});
