/**
 * Redis's sdssplitargs (sds.c), which redis-cli and the inline protocol use to read a line, and
 * FUNCTION LOAD to read a library's shebang.
 */
const isSpace = (c: number | undefined) => c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);
const hexValue = (c: number | undefined): number => {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
};
const ESCAPES: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

/**
 * Redis's sdssplitargs: words split on spaces, `"…"` with `\n \r \t \b \a \xHH` escapes, `'…'`
 * with `\'`. Null for unbalanced quotes (or a closing quote not followed by a space).
 * @example splitArgs(utf8(`SET k "a b\x00"`)) // [SET, k, "a b\0"]
 */
export function splitArgs(line: Uint8Array): Uint8Array[] | null {
  const words: Uint8Array[] = [];
  let p = 0;
  const end = line.length;
  for (;;) {
    while (p < end && isSpace(line[p])) p++;
    if (p >= end) return words;
    const word: number[] = [];
    let inDouble = false;
    let inSingle = false;
    for (let done = false; !done; ) {
      const c = line[p];
      if (inDouble) {
        if (c === undefined) return null;
        if (c === 0x5c && line[p + 1] === 0x78 && hexValue(line[p + 2]) >= 0 && hexValue(line[p + 3]) >= 0) {
          word.push(hexValue(line[p + 2]) * 16 + hexValue(line[p + 3]));
          p += 3;
        } else if (c === 0x5c && p + 1 < end) {
          p++;
          const e = line[p]!;
          word.push(ESCAPES[e] ?? e);
        } else if (c === 0x22) {
          if (p + 1 < end && !isSpace(line[p + 1])) return null;
          done = true;
        } else word.push(c);
      } else if (inSingle) {
        if (c === undefined) return null;
        if (c === 0x5c && line[p + 1] === 0x27) {
          p++;
          word.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < end && !isSpace(line[p + 1])) return null;
          done = true;
        } else word.push(c);
      } else if (c === undefined || isSpace(c) || c === 0) {
        done = true;
      } else if (c === 0x22) inDouble = true;
      else if (c === 0x27) inSingle = true;
      else word.push(c);
      if (p < end) p++;
    }
    words.push(Uint8Array.from(word));
  }
}
