import { parseInt64 } from "../args";
import { toBytes } from "../bytes";
import { defineCommand, key } from "../command";
import { RedisError, errors } from "../errors";
import { RdbError } from "../rdb/error";
import { payloadVerified, readPayload } from "../rdb/payload";
import { UnsupportedRdbType } from "../rdb/value";
import { createValue } from "./serialized";

interface RestoreArgs {
  readonly key: string;
  readonly ttl: string;
  readonly payload: string;
  readonly replace: boolean;
  readonly absttl: boolean;
  readonly idleSeconds: bigint | null;
  readonly frequency: bigint | null;
}

/**
 * RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
 * @see https://redis.io/docs/latest/commands/restore/
 * Redis's checks in its order (restoreCommand): the options, the key (BUSYKEY), the TTL, the
 * payload's version and checksum, then its value (Bad data format). The value is created through
 * the types' own writes, so it replicates as those do; a TTL already past deletes what REPLACE
 * replaced and creates nothing.
 */
export default defineCommand<RestoreArgs>({
  name: "restore",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, ttl, payload, ...rest]) => {
    let replace = false;
    let absttl = false;
    let idleSeconds: bigint | null = null;
    let frequency: bigint | null = null;
    for (let i = 0; i < rest.length; i++) {
      const option = rest[i]!.toLowerCase();
      const more = rest.length - i - 1;
      if (option === "replace") replace = true;
      else if (option === "absttl") absttl = true;
      else if (option === "idletime" && more >= 1 && frequency === null) {
        idleSeconds = parseInt64(rest[++i]!);
        if (idleSeconds < 0n) throw new RedisError("ERR Invalid IDLETIME value, must be >= 0");
      } else if (option === "freq" && more >= 1 && idleSeconds === null) {
        frequency = parseInt64(rest[++i]!);
        if (frequency < 0n || frequency > 255n) throw new RedisError("ERR Invalid FREQ value, must be >= 0 and <= 255");
      } else throw errors.syntax();
    }
    return { key: k!, ttl: ttl!, payload: payload!, replace, absttl, idleSeconds, frequency };
  },
  run: ({ db, now }, a) => {
    if (!a.replace && db.exists(a.key)) throw new RedisError("BUSYKEY Target key name already exists.");
    const ttl = parseInt64(a.ttl);
    if (ttl < 0n) throw new RedisError("ERR Invalid TTL value, must be >= 0");
    const payload = toBytes(a.payload);
    if (!payloadVerified(payload)) throw new RedisError("ERR DUMP payload version or checksum are wrong");
    let value;
    try {
      value = readPayload(payload);
    } catch (e) {
      if (e instanceof UnsupportedRdbType) throw new RedisError(`ERR RESTORE of RDB type ${e.rdbType} (module data) is not supported by Flaredis`);
      if (e instanceof RdbError) throw new RedisError("ERR Bad data format");
      throw e;
    }
    if (a.replace) db.delete(a.key);
    const at = ttl === 0n ? null : Number(a.absttl ? ttl : ttl + BigInt(now));
    // Already past its deadline: nothing is created (what REPLACE deleted stays deleted).
    if (at !== null && at <= now) return "OK";
    createValue(db, a.key, value, at);
    if (a.idleSeconds !== null || a.frequency !== null)
      db.usage.set(a.key, {
        ...(a.idleSeconds !== null ? { idleMs: Number(a.idleSeconds) * 1000 } : {}),
        ...(a.frequency !== null ? { frequency: Number(a.frequency) } : {}),
      });
    return "OK";
  },
});
