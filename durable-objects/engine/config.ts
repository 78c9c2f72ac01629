/**
 * CONFIG parameters, with Redis's names, defaults, value formats and error texts. They are
 * persisted in the node's storage, so a restart keeps them.
 */
import { RedisError } from "./errors";
import { compileGlob } from "./glob";

export const EVICTION_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "volatile-lru",
  "allkeys-lfu",
  "volatile-lfu",
  "allkeys-random",
  "volatile-random",
  "volatile-ttl",
] as const;

export interface Config {
  maxmemory: number;
  "maxmemory-policy": (typeof EVICTION_POLICIES)[number];
  /** Keys sampled per eviction round (LRU, LFU, TTL policies); Redis takes 1 to INT_MAX, eviction reads at most 64. */
  "maxmemory-samples": number;
  "min-replicas-to-write": number;
  "min-replicas-max-lag": number;
  "repl-backlog-size": number;
  "repl-timeout": number;
  "replica-priority": number;
  "replica-serve-stale-data": boolean;
}

export const DEFAULT_CONFIG: Readonly<Config> = {
  maxmemory: 0,
  "maxmemory-policy": "noeviction",
  "maxmemory-samples": 5,
  "min-replicas-to-write": 0,
  "min-replicas-max-lag": 10,
  "repl-backlog-size": 1024 * 1024,
  "repl-timeout": 60,
  "replica-priority": 100,
  "replica-serve-stale-data": true,
};

type Name = keyof Config;
const NAMES = Object.keys(DEFAULT_CONFIG) as Name[];

const UNITS: Record<string, bigint> = { "": 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };

const INT_MAX = 2 ** 31 - 1;
const LLONG_MAX = 2n ** 63n - 1n;
const ULLONG_MAX = 2n ** 64n - 1n;
/** Redis's CONFIG_REPL_BACKLOG_MIN_SIZE: a smaller repl-backlog-size is raised to it. */
const BACKLOG_MIN_BYTES = 16 * 1024;

/** A refused value, with the reason Redis gives after "argument ...". */
class Refused {
  constructor(readonly reason: string) {}
}

/** Redis's memory values (`1048576`, `1mb`, `512kb`, `1g`...) within [min, max]. */
function parseMemory(value: string, min: bigint, max: bigint): number | Refused {
  const m = value.toLowerCase().match(/^(\d+)([a-z]*)$/);
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) return new Refused(" must be a memory value");
  const n = BigInt(m[1]!) * unit;
  // Past 64 bits a value cannot be what was meant (Redis 7.0 wrapped it round; later ones refuse it).
  if (n > ULLONG_MAX) return new Refused(" must be a memory value");
  if (n < min || n > max) return new Refused(` must be between ${min} and ${max} inclusive`);
  return Number(n);
}

/** Redis's integer parameters: a decimal integer within [min, max]. */
function parseInteger(value: string, min: number, max: number): number | Refused {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) return new Refused(" couldn't be parsed into an integer");
  const n = Number(value);
  return n < min || n > max ? new Refused(` must be between ${min} and ${max} inclusive`) : n;
}

/** Parses one value, or says why Redis would refuse it. */
function parseValue(name: Name, value: string): Config[Name] | Refused {
  switch (name) {
    case "maxmemory":
      return parseMemory(value, 0n, ULLONG_MAX);
    case "repl-backlog-size": {
      const n = parseMemory(value, 1n, LLONG_MAX);
      return n instanceof Refused ? n : Math.max(n, BACKLOG_MIN_BYTES);
    }
    case "maxmemory-policy":
      return (EVICTION_POLICIES as readonly string[]).includes(value.toLowerCase())
        ? (value.toLowerCase() as Config[Name])
        : new Refused(`(s) must be one of the following: ${POLICY_ORDER.join(", ")}`);
    case "replica-serve-stale-data":
      return value.toLowerCase() === "yes" ? true : value.toLowerCase() === "no" ? false : new Refused(" must be 'yes' or 'no'");
    case "repl-timeout":
    case "maxmemory-samples":
      return parseInteger(value, 1, INT_MAX);
    default:
      return parseInteger(value, 0, INT_MAX);
  }
}

/** The policies in the order Redis's error lists them. */
const POLICY_ORDER = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"];

const show = (v: Config[Name]): string =>
  typeof v === "boolean" ? (v ? "yes" : "no") : typeof v === "number" && v > Number.MAX_SAFE_INTEGER ? String(bigMin(BigInt(v), ULLONG_MAX)) : String(v);
const bigMin = (a: bigint, b: bigint) => (a < b ? a : b);

/** CONFIG GET: name/value pairs of every parameter matching one of the patterns. */
export function configGet(config: Config, patterns: readonly string[]): string[] {
  const res = patterns.map((p) => compileGlob(p.toLowerCase()));
  return NAMES.filter((n) => res.some((r) => r.test(n))).flatMap((n) => [n, show(config[n])]);
}

/**
 * CONFIG SET: parses every pair first, so a bad one changes nothing.
 * @returns the new config
 */
export function configSet(config: Config, pairs: readonly (readonly [string, string])[]): Config {
  const next = { ...config } as Record<Name, Config[Name]>;
  for (const [raw, value] of pairs) {
    const name = raw.toLowerCase() as Name;
    if (!NAMES.includes(name)) throw new RedisError(`ERR Unknown option or number of arguments for CONFIG SET - '${raw}'`);
    const parsed = parseValue(name, value);
    if (parsed instanceof Refused) throw new RedisError(`ERR CONFIG SET failed (possibly related to argument '${raw}') - argument${parsed.reason}`);
    next[name] = parsed;
  }
  return next as unknown as Config;
}

export function loadConfig(stored: string | number | null): Config {
  if (typeof stored !== "string") return { ...DEFAULT_CONFIG };
  return { ...DEFAULT_CONFIG, ...(JSON.parse(stored) as Partial<Config>) };
}
