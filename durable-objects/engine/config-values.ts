/**
 * How CONFIG SET reads values, with Redis's error texts: integers and memory values within a
 * range, and the parameters Redis reads with a parser of their own (`parseSpecial`).
 */
import { strtod } from "./args";
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
  // Past 64 bits a value cannot be what was meant (Redis 7.0 saturates it, or wraps it round with a
  // unit: 20000000000gb reads back 3028092406290448384); Flaredis refuses it.
  if (n > ULLONG_MAX) return new Refused("argument must be a memory value");
  if (n < min || n > max) return new Refused(`argument must be between ${min} and ${max} inclusive`);
  return n;
}

/** Redis's integer parameters: a decimal 64-bit integer within [min, max]. */
export function parseInteger(value: string, min: bigint, max: bigint): bigint | Refused {
  // As string2ll reads: no sign but "-", no leading zero, no "-0".
  if (!/^(0|-?[1-9]\d*)$/.test(value) || BigInt(value) > LLONG_MAX || BigInt(value) < -LLONG_MAX - 1n) return new Refused("argument couldn't be parsed into an integer");
  const n = BigInt(value);
  return n < min || n > max ? new Refused(`argument must be between ${min} and ${max} inclusive`) : n;
}

/** What C's strtoll reads of a whole word ("+5", "007", "" as 0), or null when it is not one. */
function strtoll(word: string): bigint | null {
  return /^[+-]?\d*$/.test(word) ? (word.replace(/^[+-]/, "") === "" ? 0n : BigInt(word)) : null;
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
  if (value === "") return current;
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
    const seconds = strtoll(words[i + 3]!);
    if (hard instanceof Refused || soft instanceof Refused || seconds === null || seconds < 0n) return new Refused("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    limits.set(kind, [String(hard), String(soft), String(seconds)]);
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
      // Redis keeps a percentage as a negative number: 0% is 0, and a byte count past 2^63 reads
      // back as the percentage its two's complement makes.
      const tooMuch = new Refused("percentage argument must be less or equal to 100");
      const percent = /^(0|[1-9]\d*)%$/.exec(value);
      if (percent) return BigInt(percent[1]!) > 100n ? tooMuch : percent[1] === "0" ? "0" : `${percent[1]}%`;
      const n = parseMemory(value, 0n, ULLONG_MAX);
      if (n instanceof Refused) return new Refused("argument must be a memory or percent value");
      if (n <= LLONG_MAX) return String(n);
      return 2n ** 64n - n > 100n ? tooMuch : `${2n ** 64n - n}%`;
    }
    case "save": {
      if (value === "") return value;
      // Pairs of seconds (at least 1) and changes (at least 0), read as strtoll reads them.
      const numbers = value.split(" ").map(strtoll);
      const valid = numbers.length % 2 === 0 && numbers.every((n, i) => n !== null && n >= (i % 2 === 0 ? 1n : 0n));
      return valid ? numbers.join(" ") : new Refused("Invalid save parameters");
    }
    case "oom-score-adj-values": {
      const numbers = value.split(" ").map(strtoll);
      if (numbers.length !== 3) return new Refused("wrong number of arguments");
      const ok = numbers.every((n) => n !== null && n >= -2000n && n <= 2000n);
      return ok ? numbers.join(" ") : new Refused("Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
    }
    case "latency-tracking-info-percentiles": {
      if (value === "") return value;
      // Read as strtod reads (hex, inf), shown as %f with its trailing zeros trimmed.
      const numbers = value.split(" ").map((w) => (w === "" ? null : strtod(w)));
      if (numbers.some((n) => n === null || Number.isNaN(n.value))) return new Refused("Invalid latency-tracking-info-percentiles parameters");
      if (numbers.some((n) => n!.value < 0 || n!.value > 100)) return new Refused("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
      return numbers.map((n) => n!.value.toFixed(6).replace(/\.?0+$/, "")).join(" ");
    }
    default:
      return value;
  }
}

/** Variables a proc-title-template may name (Redis's). */
const TITLE_VARIABLES = new Set(["title", "listen-addr", "server-mode", "port", "tls-port", "unixsocket", "config-file"]);

/** A text parameter's value, where Redis checks one: a hostname's characters, a title template's variables. */
export function checkText(name: string, value: string): string | Refused {
  if (name === "cluster-announce-hostname" && !/^[A-Za-z0-9.-]*$/.test(value)) return new Refused("Hostnames may only contain alphanumeric characters, hyphens or dots");
  if (name === "proc-title-template") {
    const names = [...value.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
    const unbalanced = value.replace(/\{[^{}]*\}/g, "").includes("{") || value.replace(/\{[^{}]*\}/g, "").includes("}");
    if (unbalanced || names.some((n) => !TITLE_VARIABLES.has(n))) return new Refused("template format is invalid or contains unknown variables");
  }
  return value;
}
