/**
 * Replies as Upstash's JSON: bulk strings as UTF-8 text, or base64 of their bytes when the
 * request asked for `Upstash-Encoding: base64` (then every string is encoded but the status
 * `OK`, which the official client expects as is); integers beyond 2^53 as exact JSON numbers.
 * Status and error strings leave the engine as binary strings (bytes.ts) and are read as UTF-8.
 */
import { fromBytes, textOf, toText } from "../durable-objects/engine/bytes";
import type { Reply } from "../durable-objects/engine/command";
import type { Outcome } from "../durable-objects/engine/engine";


/** Converts a reply for JSON, in the requested encoding. */
export function toJsonReply(reply: Reply, encodeBase64: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (typeof reply === "bigint") return reply;
  if (typeof reply === "string") return encodeBase64 && reply !== "OK" ? btoa(reply) : toText(reply);
  if (reply instanceof Uint8Array) return encodeBase64 ? btoa(fromBytes(reply)) : textOf(reply);
  if (!Array.isArray(reply)) throw new Error("flaredis: a WAIT reply left the node unresolved");
  return reply.map((r) => toJsonReply(r, encodeBase64));
}

export function toJsonOutcome(outcome: Outcome, encodeBase64: boolean): unknown {
  return "error" in outcome ? { error: toText(outcome.error) } : { result: toJsonReply(outcome.result, encodeBase64) };
}

declare global {
  interface JSON {
    rawJSON(text: string): unknown;
  }
}

/** JSON.stringify that writes bigints as exact numbers. */
export function stringify(value: unknown): string {
  try {
    // Plain JSON.stringify throws on a bigint; a replacer would slow every other reply down.
    return JSON.stringify(value);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? JSON.rawJSON(v.toString()) : v));
  }
}
