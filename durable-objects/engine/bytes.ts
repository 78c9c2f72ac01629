/**
 * Redis strings are byte strings. Inside the engine a byte string is kept one of two ways:
 * `Bytes` (a Uint8Array) for values, and, for keys, fields, members and arguments, a JS string
 * holding one byte per code unit (each 0..255: a "binary string"). JS compares such strings as
 * memcmp compares their bytes, and a Map keys them, which is why keys are strings.
 *
 * Text meets bytes only at the edges (worker/, cli/): `fromText` turns a client's UTF-8 text into
 * a binary string, `toText` the other way (lossy, U+FFFD for what is not UTF-8). Inside, `toBytes`
 * and `fromBytes` convert between the two forms without ever looking at UTF-8.
 */
export type Bytes = Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ASCII = /^[\x00-\x7f]*$/;

/** The bytes of binary string `s`; a code unit above 0xFF is a defect at an edge, never data. */
export function toBytes(s: string): Bytes {
  // ASCII through the native encoder (a JS loop costs 4 ns a byte).
  if (s.length > 64 && ASCII.test(s)) return encoder.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`flaredis: a binary string holds U+${c.toString(16).toUpperCase()}: text reached the engine without fromText`);
    out[i] = c;
  }
  return out;
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf16 = new TextDecoder("utf-16le");

/** `bytes` as a binary string, one code unit per byte. */
export function fromBytes(bytes: Bytes): string {
  if (bytes.length <= 64) {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  // Natively: ASCII is its own UTF-8; other bytes widened to UTF-16 code units.
  try {
    const s = strict.decode(bytes);
    if (s.length === bytes.length) return s;
  } catch {
    // not UTF-8: widened below
  }
  const wide = new Uint16Array(bytes.length);
  wide.set(bytes);
  return utf16.decode(wide);
}

/** The binary string of text `s`'s UTF-8 bytes (an ASCII string is its own). */
export const fromText = (s: string): string => (ASCII.test(s) ? s : fromBytes(encoder.encode(s)));

const BINARY = /^[\x00-\xff]*$/;

/**
 * Binary string `s` read as UTF-8 text (invalid sequences become U+FFFD). A string with a code
 * unit above 0xFF is text already (a message made at the edge) and is kept as it is.
 */
export const toText = (s: string): string => (ASCII.test(s) || !BINARY.test(s) ? s : decoder.decode(toBytes(s)));

/** `bytes` read as UTF-8 text (invalid sequences become U+FFFD; use base64 for binary values). */
export const textOf = (bytes: Bytes): string => decoder.decode(bytes);


export function concatBytes(parts: readonly Bytes[]): Bytes {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `old` with `bytes` written from `offset` on, zero-padded past its end (SETRANGE's value). */
export function overwriteBytes(old: Bytes, offset: number, bytes: Bytes): Bytes {
  const out = new Uint8Array(Math.max(old.length, offset + bytes.length));
  out.set(old);
  out.set(bytes, offset);
  return out;
}

export function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
