/**
 * redis-server's side of a differential run kept as a transcript: every call the differential
 * made to it (a command or a pipeline), redis-server's replies, and when each came (ms since the
 * run's start). `npm run fuzz -- --record FILE` writes one while running against a redis-server
 * (any version: 7.4.1 built from source, for commands Debian's 7.0 does not have); `--transcript
 * FILE` and the interop check replay it in its place, so that a reference that is not installed
 * still judges Flaredis. A replay runs no faster than the recording did (each reply is held until
 * its recorded time), and its `skew` says how its clock stands to the recording's for TTLs and
 * deadlines (compare.ts). A replay that asks what the recording never asked (a program that
 * diverged, or changed since) fails at once, naming the call.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Skew } from "./compare.ts";
import type { Family } from "./generator.ts";
import type { Arg, Command, Reply } from "./reply.ts";

/** What a differential asks of redis-server (RespConnection, or a transcript in its place). */
export interface RedisSide {
  send(...args: Arg[]): Promise<Reply>;
  pipeline(commands: readonly Command[]): Promise<Reply[]>;
  /** How replies are timed against now, for a side that is not live. */
  skew?(): Skew;
}

/** One call: the commands sent together, redis-server's replies, and when they came (ms from the seed's start). */
interface Entry {
  readonly commands: Command[];
  readonly replies: Reply[];
  readonly at: number;
}

export interface Transcript {
  readonly redisVersion: string;
  /** Per program, in the order run: its seed and options, when it started (unix ms), and its calls. */
  readonly seeds: RecordedSeed[];
}

export interface RecordedSeed {
  readonly seed: number;
  readonly ops: number;
  /** The families it drew from, when not all (generator.ts). */
  readonly families?: readonly Family[];
  readonly startedAt: number;
  readonly entries: Entry[];
}

/** A live redis-server, with every call written down. */
export class Recording implements RedisSide {
  readonly transcript: Transcript;
  private started = Date.now();
  private current: Entry[] = [];
  private readonly inner: RedisSide;

  constructor(inner: RedisSide, redisVersion: string, earlier?: Transcript) {
    if (earlier && earlier.redisVersion !== redisVersion) throw new Error(`the transcript is of redis-server ${earlier.redisVersion}, this one is ${redisVersion}`);
    this.inner = inner;
    this.transcript = { redisVersion, seeds: [...(earlier?.seeds ?? [])] };
  }

  /** Calls from now on belong to `seed`'s program. */
  beginSeed(seed: number, ops: number, families?: readonly Family[]): void {
    this.current = [];
    this.started = Date.now();
    this.transcript.seeds.push({ seed, ops, ...(families ? { families } : {}), startedAt: this.started, entries: this.current });
  }

  async send(...args: Arg[]): Promise<Reply> {
    return (await this.pipeline([args]))[0]!;
  }

  async pipeline(commands: readonly Command[]): Promise<Reply[]> {
    const replies = await this.inner.pipeline(commands);
    this.current.push({ commands: [...commands], replies, at: Date.now() - this.started });
    return replies;
  }

  save(file: string): void {
    writeFileSync(file, gzipSync(Buffer.from(JSON.stringify(this.transcript, encode))));
  }
}

/** A recorded redis-server, answering one seed's calls in order. */
export class Replay implements RedisSide {
  private next = 0;
  private started = Date.now();
  private shiftMs = 0;
  private driftMs = 0;
  private entries: readonly Entry[] = [];
  readonly transcript: Transcript;

  constructor(transcript: Transcript) {
    this.transcript = transcript;
  }

  static load(file: string): Replay {
    return new Replay(JSON.parse(gunzipSync(readFileSync(file)).toString("utf8"), decode) as Transcript);
  }

  /** Answers the calls of the `index`th program recorded from now on (as recorded, from their first); its seed and options. */
  begin(index: number): RecordedSeed {
    const recorded = this.transcript.seeds[index];
    if (!recorded) throw new Error(`the transcript holds ${this.transcript.seeds.length} programs, not ${index + 1}`);
    this.entries = recorded.entries;
    this.next = 0;
    this.started = Date.now();
    this.shiftMs = this.started - recorded.startedAt;
    this.driftMs = 0;
    return recorded;
  }

  /** Calls not yet asked for: a complete replay leaves none. */
  get remaining(): number {
    return this.entries.length - this.next;
  }

  skew(): Skew {
    return { driftMs: this.driftMs, shiftMs: this.shiftMs };
  }

  async send(...args: Arg[]): Promise<Reply> {
    return (await this.pipeline([args]))[0]!;
  }

  async pipeline(commands: readonly Command[]): Promise<Reply[]> {
    const entry = this.entries[this.next];
    const asked = JSON.stringify(commands);
    if (!entry || JSON.stringify(entry.commands) !== asked)
      throw new Error(`call ${this.next} of the replay is ${asked}; the recording's is ${entry ? JSON.stringify(entry.commands) : "none (it ended)"}`);
    this.next++;
    const wait = entry.at - (Date.now() - this.started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.driftMs = Math.max(this.driftMs, Date.now() - this.started - entry.at);
    return entry.replies;
  }
}

/** JSON for replies: bytes as `{"$b": base64}`, integers as `{"$i": "…"}` (errors and arguments as they are). */
function encode(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === "bigint") return { $i: value.toString() };
  const raw = this && typeof this === "object" ? (this as Record<string, unknown>)[_key] : value;
  if (Buffer.isBuffer(raw)) return { $b: raw.toString("base64") };
  return value;
}

function decode(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    if ("$i" in value) return BigInt((value as { $i: string }).$i);
    if ("$b" in value) return Buffer.from((value as { $b: string }).$b, "base64");
  }
  return value;
}
