/**
 * Replies printed as redis-cli prints them (redis-cli.c `cliFormatReplyTTY` and
 * `cliFormatReplyRaw`), so that what a user reads here reads the same there.
 *
 * @example formatReply([utf8("a"), null, 1n]) // '1) "a"\n2) (nil)\n3) (integer) 1\n'
 */
import { NULL_ARRAY, type Reply } from "./reply.ts";

const ESCAPED: Record<number, string> = { 0x5c: "\\\\", 0x22: '\\"', 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x07: "\\a", 0x08: "\\b" };

/** sdscatrepr: a quoted string, printable ASCII as is, other bytes as `\xHH`. */
export function quote(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    const escaped = ESCAPED[b];
    if (escaped !== undefined) out += escaped;
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out + '"';
}

/** The interactive (TTY) form, each reply ending in a newline. */
export function formatReply(reply: Reply, prefix = ""): string {
  if (reply === null || reply === NULL_ARRAY) return "(nil)\n";
  if (typeof reply === "string") return `${reply}\n`;
  if (typeof reply === "bigint") return `(integer) ${reply}\n`;
  if (reply instanceof Uint8Array) return `${quote(reply)}\n`;
  if (!Array.isArray(reply)) return `(error) ${reply.error}\n`;
  if (reply.length === 0) return "(empty array)\n";
  // Indices right-aligned to the widest; nested arrays indented under their index.
  const width = String(reply.length).length;
  const inner = prefix + " ".repeat(width + 2);
  let out = "";
  reply.forEach((element, i) => {
    out += `${i === 0 ? "" : prefix}${String(i + 1).padStart(width)}) ${formatReply(element, inner)}`;
  });
  return out;
}

/** The `--raw` form (bytes as they are, elements one per line), without the final newline. */
export function formatRaw(reply: Reply): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const walk = (r: Reply): void => {
    if (r === null) return;
    if (typeof r === "string") parts.push(encoder.encode(r));
    else if (typeof r === "bigint") parts.push(encoder.encode(String(r)));
    else if (r instanceof Uint8Array) parts.push(r);
    else if (Array.isArray(r))
      r.forEach((element, i) => {
        if (i > 0) parts.push(encoder.encode("\n"));
        walk(element);
      });
    else parts.push(encoder.encode(`${r.error}\n`));
  };
  walk(reply);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
