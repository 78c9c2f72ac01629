/**
 * CONFIG parameters, with Redis's names, defaults, value formats and error texts. They are
 * persisted in the node's storage, so a restart keeps them, and sent to the replicas. Those of
 * `Config`'s own fields change what Flaredis does; every other parameter of redis-server 7.0
 * (config-table.ts) is validated as Redis does, kept in `other`, and has no effect (README).
 */
import { ALIASES, HIDDEN, type Kind, PARAMETERS as LISTED, ULLONG_MAX } from "./config-table";
import { Refused, checkText, parseInteger, parseMemory, parseSpecial } from "./config-values";
import type { AclUser } from "./acl/users";
import type { SlotGuard } from "./slot-guard";
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
  /** How long a script may run, in ms of its work (scripting/scripts.ts); 0: the platform's bound. */
  "busy-reply-threshold": number;
  /** Every other parameter CONFIG SET changed, by name, as CONFIG GET shows it (no effect). */
  other: Record<string, string>;
  /** ACL users made with ACL SETUSER (acl/users.ts): not a parameter, kept and replicated with them. */
  acl?: readonly AclUser[];
  /** The hash slots moving away from this shard, or moved (slot-guard.ts): not a parameter, replicated. */
  slots?: SlotGuard;
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
  "busy-reply-threshold": 5000,
  other: {},
};

type Name = Exclude<keyof Config, "other" | "acl" | "slots">;
const NAMES = (Object.keys(DEFAULT_CONFIG) as (keyof Config)[]).filter((n): n is Name => n !== "other" && n !== "acl" && n !== "slots");

/** Redis's CONFIG_REPL_BACKLOG_MIN_SIZE: a smaller repl-backlog-size is raised to it. */
const BACKLOG_MIN_BYTES = 16 * 1024;

/**
 * An enum's value, lowercased; the shutdown-on-sig* ones are sets of flags, shown in the table's
 * order, "default" only alone, save and nosave not together (Redis's texts).
 */
function parseEnum(name: string, value: string, values: readonly string[]): string | Refused {
  const flags = name.startsWith("shutdown-on-sig");
  const words = flags ? value.toLowerCase().split(" ") : [value.toLowerCase()];
  if (!words.every((w) => values.includes(w))) return new Refused(`argument(s) must be one of the following: ${values.join(", ")}`);
  if (!flags) return words[0]!;
  if (words.includes("save") && words.includes("nosave")) return new Refused("shutdown options SAVE and NOSAVE can't be used simultaneously");
  const set = values.filter((v) => v !== "default" && words.includes(v));
  return set.length === 0 ? "default" : set.join(" ");
}

/**
 * Parses one of `Config`'s own values as its kind in the table reads it (so with Redis's ranges
 * and texts), into the field's type, or says why Redis would refuse it.
 */
function parseValue(name: Name, value: string): Config[Name] | Refused {
  const text = parseOther(name, PARAMETERS.get(name)![1], value, "");
  if (text instanceof Refused) return text;
  switch (name) {
    case "maxmemory-policy":
      return text as Config[Name];
    case "replica-serve-stale-data":
      return text === "yes";
    case "repl-backlog-size":
      return Math.max(Number(text), BACKLOG_MIN_BYTES);
    default:
      return Number(text);
  }
}

/**
 * Parses a value of a parameter that has no effect here (`current`: its value now), as CONFIG GET
 * will show it, or says why Redis would refuse it.
 */
function parseOther(name: string, kind: Kind, value: string, current: string): string | Refused {
  // Immutable and protected parameters never get here: configSet refuses them first.
  switch (kind.type) {
    case "bool":
      return value.toLowerCase() === "yes" || value.toLowerCase() === "no" ? value.toLowerCase() : new Refused("argument must be 'yes' or 'no'");
    case "enum":
      return parseEnum(name, value, kind.values);
    case "integer":
    case "memory": {
      const n = kind.type === "integer" ? parseInteger(value, kind.min, kind.max) : parseMemory(value, kind.min, kind.max);
      return n instanceof Refused ? n : String(n);
    }
    case "special":
      return parseSpecial(name, value, current);
    default:
      return checkText(name, value);
  }
}

const show = (v: Config[Name]): string =>
  typeof v === "boolean" ? (v ? "yes" : "no") : typeof v === "number" && v > Number.MAX_SAFE_INTEGER ? String(bigMin(BigInt(v), ULLONG_MAX)) : String(v);
const bigMin = (a: bigint, b: bigint) => (a < b ? a : b);

/** Every name CONFIG GET's globs list: the parameters and their aliases (not the hidden ones). */
const ALL_NAMES = [...LISTED.keys(), ...ALIASES.keys()].sort();
/** Every parameter CONFIG knows, the hidden ones with the listed. */
const PARAMETERS = new Map([...LISTED, ...HIDDEN]);

/** A parameter's value as CONFIG GET shows it (`name` as the table has it, not an alias). */
function valueOf(config: Config, name: string): string {
  if ((NAMES as string[]).includes(name)) return show(config[name as Name]);
  // A config from a primary older than `other` has none.
  return config.other?.[name] ?? PARAMETERS.get(name)![0];
}

/**
 * CONFIG GET: name/value pairs of every parameter (and alias) matching one of the patterns, in
 * the patterns' order, each once. A pattern without glob characters is a name, answered as the
 * caller wrote it (Redis's `CONFIG GET MAXMEMORY` answers `MAXMEMORY`).
 */
export function configGet(config: Config, patterns: readonly string[]): string[] {
  const out: string[] = [];
  const answered = new Set<string>();
  const answer = (shown: string, name: string) => {
    if (answered.has(name)) return;
    answered.add(name);
    out.push(shown, valueOf(config, ALIASES.get(name) ?? name));
  };
  for (const pattern of patterns) {
    const lower = pattern.toLowerCase();
    if (!/[*?[\\]/.test(pattern)) {
      if (PARAMETERS.has(ALIASES.get(lower) ?? lower)) answer(pattern, lower);
      continue;
    }
    const glob = compileGlob(lower);
    for (const name of ALL_NAMES) if (glob.test(name)) answer(name, name);
  }
  return out;
}

/**
 * CONFIG SET: parses every pair first, so a bad one changes nothing; a name given twice is
 * refused, as Redis does.
 * @returns the new config
 */
export function configSet(config: Config, pairs: readonly (readonly [string, string])[]): Config {
  const next = { ...config, other: { ...config.other } } as Config;
  const seen = new Set<string>();
  const refuse = (raw: string, text: string) => new RedisError(`ERR CONFIG SET failed (possibly related to argument '${raw}') - ${text}`);
  // Redis's order: every name is checked (known, settable, not given twice) before any value is read.
  const named = pairs.map(([raw, value]) => {
    const lower = raw.toLowerCase();
    const name = ALIASES.get(lower) ?? lower;
    const kind = PARAMETERS.get(name);
    if (kind === undefined) throw new RedisError(`ERR Unknown option or number of arguments for CONFIG SET - '${raw}'`);
    const type = kind[1].type;
    if (type === "immutable" || type === "protected") throw refuse(raw, `can't set ${type} config`);
    // An alias and the parameter it names are two entries to Redis: the later one wins.
    if (seen.has(lower)) throw refuse(raw, "duplicate parameter");
    seen.add(lower);
    return { lower, name, kind: kind[1], value };
  });
  for (const { lower, name, kind, value } of named) {
    const own = (NAMES as string[]).includes(name);
    const parsed = own ? parseValue(name as Name, value) : parseOther(name, kind, value, valueOf(next, name));
    if (parsed instanceof Refused) throw refuse(lower, parsed.text);
    if (own) (next as unknown as Record<Name, Config[Name]>)[name as Name] = parsed as Config[Name];
    else next.other[name] = parsed as string;
  }
  return next;
}

export function loadConfig(stored: string | number | null): Config {
  if (typeof stored !== "string") return { ...DEFAULT_CONFIG, other: {} };
  const saved = JSON.parse(stored) as Partial<Config>;
  return { ...DEFAULT_CONFIG, ...saved, other: { ...saved.other } };
}
