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
  /** Keys sampled per eviction round (LRU, LFU, TTL policies), 1 to 64 as in Redis. */
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

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };

/** Redis's memory values: `1048576`, `1mb`, `512kb`, `1g`... */
function parseMemory(value: string): number | null {
  const m = value.toLowerCase().match(/^(\d+)([a-z]*)$/);
  const unit = m ? UNITS[m[2]!] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : null;
}

function parseInteger(value: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  return /^-?\d+$/.test(value) && Number(value) >= min && Number(value) <= max && Number.isSafeInteger(Number(value)) ? Number(value) : null;
}

/** Parses one value; null when it is not valid for the parameter. */
function parseValue(name: Name, value: string): Config[Name] | null {
  switch (name) {
    case "maxmemory":
    case "repl-backlog-size":
      return parseMemory(value);
    case "maxmemory-policy":
      return (EVICTION_POLICIES as readonly string[]).includes(value.toLowerCase()) ? (value.toLowerCase() as Config[Name]) : null;
    case "replica-serve-stale-data":
      return value.toLowerCase() === "yes" ? true : value.toLowerCase() === "no" ? false : null;
    case "repl-timeout":
      return parseInteger(value, 1);
    case "maxmemory-samples":
      return parseInteger(value, 1, 64);
    default:
      return parseInteger(value, 0);
  }
}

const show = (v: Config[Name]): string => (typeof v === "boolean" ? (v ? "yes" : "no") : String(v));

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
    if (parsed === null)
      throw new RedisError(`ERR CONFIG SET failed (possibly related to argument '${raw}') - argument couldn't be parsed`);
    next[name] = parsed;
  }
  return next as unknown as Config;
}

export function loadConfig(stored: string | number | null): Config {
  if (typeof stored !== "string") return { ...DEFAULT_CONFIG };
  return { ...DEFAULT_CONFIG, ...(JSON.parse(stored) as Partial<Config>) };
}
