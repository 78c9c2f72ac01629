/**
 * How CONFIG SET reads values, with Redis's error texts: integers and memory values within a
 * range, and the parameters Redis reads with a parser of their own (`parseSpecial`).
 */
import { LLONG_MAX, ULLONG_MAX } from "./config-table";

const UNITS: Record<string, bigint> = { "": 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };

/** A refused value: Redis's text after "CONFIG SET failed (possibly related to argument '…') - ". */
export class Refused {
  constructor(readonly text: string) {}
}

/** Redis's memory values (`1048576`, `1mb`, `512kb`, `1g`...) within [min, max]. */
export function parseMemory(value: string, min: bigint, max: bigint): bigint | Refused {
  const m = value.toLowerCase().match(/^(\d+)([a-z]*)$/);
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) return new Refused("argument must be a memory value");
  const n = BigInt(m[1]!) * unit;
  // Past 64 bits a value cannot be what was meant (Redis 7.0 wrapped it round; later ones refuse it).
  if (n > ULLONG_MAX) return new Refused("argument must be a memory value");
  if (n < min || n > max) return new Refused(`argument must be between ${min} and ${max} inclusive`);
  return n;
}

/** Redis's integer parameters: a decimal 64-bit integer within [min, max]. */
export function parseInteger(value: string, min: bigint, max: bigint): bigint | Refused {
  if (!/^-?\d+$/.test(value) || BigInt(value) > LLONG_MAX || BigInt(value) < -LLONG_MAX - 1n) return new Refused("argument couldn't be parsed into an integer");
  const n = BigInt(value);
  return n < min || n > max ? new Refused(`argument must be between ${min} and ${max} inclusive`) : n;
}

/** Redis's keyspace event classes, in the order CONFIG GET shows them (A: all of "g$lshzxetd"). */
const EVENT_CLASSES = "g$lshzxetd";

/** notify-keyspace-events as Redis normalizes it: "A" for every class, then n (unless A), K, E and m. */
function keyspaceEvents(value: string): string | Refused {
  const flags = new Set<string>();
  for (const c of value) {
    if (!"Ag$lshzxeKEtmdn".includes(c)) return new Refused("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    if (c === "A") for (const x of EVENT_CLASSES) flags.add(x);
    else flags.add(c);
  }
  const all = [...EVENT_CLASSES].every((c) => flags.has(c));
  const classes = all ? "A" : [...EVENT_CLASSES, "n"].filter((c) => flags.has(c)).join("");
  return classes + ["K", "E", "m"].filter((c) => flags.has(c)).join("");
}

/** client-output-buffer-limit: classes' "hard soft seconds", merged into `current`, shown in bytes for all three. */
function bufferLimits(value: string, current: string): string | Refused {
  const words = value.split(" ");
  if (words.length % 4 !== 0) return new Refused("Wrong number of arguments in buffer limit configuration.");
  const limits = new Map<string, string[]>();
  const was = current.split(" ");
  for (let i = 0; i + 3 < was.length; i += 4) limits.set(was[i]!, was.slice(i + 1, i + 4));
  for (let i = 0; i < words.length; i += 4) {
    const name = words[i]!.toLowerCase();
    const kind = name === "replica" ? "slave" : name;
    if (!["normal", "slave", "pubsub"].includes(kind)) return new Refused("Invalid client class specified in buffer limit configuration.");
    const hard = parseMemory(words[i + 1]!, 0n, ULLONG_MAX);
    const soft = parseMemory(words[i + 2]!, 0n, ULLONG_MAX);
    const seconds = words[i + 3]!;
    if (hard instanceof Refused || soft instanceof Refused || !/^\d+$/.test(seconds)) return new Refused("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    limits.set(kind, [String(hard), String(soft), String(BigInt(seconds))]);
  }
  return ["normal", "slave", "pubsub"].map((k) => [k, ...(limits.get(k) ?? ["0", "0", "0"])].join(" ")).join(" ");
}

/**
 * The parameters Redis reads with a parser of their own, validated as it does (`current`: the
 * value now, which client-output-buffer-limit merges into). `bind` is kept as given: Flaredis
 * listens on no address of its own.
 */
export function parseSpecial(name: string, value: string, current: string): string | Refused {
  switch (name) {
    case "notify-keyspace-events":
      return keyspaceEvents(value);
    case "client-output-buffer-limit":
      return bufferLimits(value, current);
    case "maxmemory-clients": {
      const percent = /^(\d+)%$/.exec(value);
      if (percent) return BigInt(percent[1]!) > 100n ? new Refused("percentage argument must be less or equal to 100") : `${BigInt(percent[1]!)}%`;
      const n = parseMemory(value, 0n, ULLONG_MAX);
      return n instanceof Refused ? new Refused("argument must be a memory or percent value") : String(n);
    }
    case "save": {
      if (value === "") return value;
      const words = value.split(" ");
      return words.length % 2 === 0 && words.every((w) => /^\d+$/.test(w)) ? words.map((w) => String(BigInt(w))).join(" ") : new Refused("Invalid save parameters");
    }
    case "oom-score-adj-values": {
      const words = value.split(" ");
      if (words.length !== 3) return new Refused("wrong number of arguments");
      const ok = words.every((w) => /^-?\d+$/.test(w) && Math.abs(Number(w)) <= 2000);
      return ok ? words.map((w) => String(Number(w))).join(" ") : new Refused("Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
    }
    case "latency-tracking-info-percentiles": {
      if (value === "") return value;
      const numbers = value.split(" ").map((w) => (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(w) ? Number(w) : Number.NaN));
      if (numbers.some((n) => Number.isNaN(n))) return new Refused("Invalid latency-tracking-info-percentiles parameters");
      if (numbers.some((n) => n < 0 || n > 100)) return new Refused("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
      return numbers.map(String).join(" ");
    }
    default:
      return value;
  }
}
