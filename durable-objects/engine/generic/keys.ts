import { toBytes } from "../bytes";
import { defineCommand } from "../command";
import { errors } from "../errors";
import { compileGlob } from "../glob";
import { REQUEST_LIMITS } from "../limits";

const PAGE = 1000;
/**
 * What a key adds to a reply beyond its bytes (RESP's `$<len>\r\n...\r\n`, JSON's quotes and
 * comma), so that a keyspace of many short keys meets the bound too.
 */
const FRAMING_BYTES = 16;

/**
 * KEYS pattern: walks the whole keyspace in pages (heavy). Its reply is bounded
 * (REQUEST_LIMITS.maxKeysReplyBytes); past it, an error, as the whole reply is held at once.
 * @see https://redis.io/docs/latest/commands/keys/
 */
export default defineCommand({
  name: "keys",
  arity: 2,
  flags: ["readonly", "heavy"],
  keys: null,
  parse: ([pattern]) => compileGlob(pattern!),
  run: ({ db }, pattern) => {
    const out: Uint8Array[] = [];
    let size = 0;
    for (let after = 0; ; ) {
      const page = db.scan(after, PAGE);
      for (const row of page.rows) {
        if (!pattern.test(row.key)) continue;
        const key = toBytes(row.key);
        size += key.length + FRAMING_BYTES;
        if (size > REQUEST_LIMITS.maxKeysReplyBytes) throw errors.keysReplyTooLarge(REQUEST_LIMITS.maxKeysReplyBytes);
        out.push(key);
      }
      if (page.next === 0) return out;
      after = page.next;
    }
  },
});
