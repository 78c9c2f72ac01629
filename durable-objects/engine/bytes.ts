/** Redis strings are byte strings; keys travel as JS strings, values are kept as bytes. */
export type Bytes = Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `s`; a short ASCII string byte by byte (a call to the encoder costs more than the loop). */
export function toBytes(s: string): Bytes {
  if (s.length > 256) return encoder.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}
/** Decodes UTF-8; invalid sequences become U+FFFD (use base64 output for binary values). */
export const fromBytes = (b: Bytes): string => decoder.decode(b);

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 that must be well-formed: null for any other bytes. */
export function strictText(b: Bytes): string | null {
  try {
    return strict.decode(b);
  } catch {
    return null;
  }
}

/** Length of `s` in UTF-8 bytes, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

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

/** Bytes as a string of one code unit per byte (for btoa; not TextDecoder's "latin1", which is windows-1252). */
export function latin1(bytes: Bytes): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}
