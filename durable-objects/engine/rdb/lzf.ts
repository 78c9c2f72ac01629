/**
 * LZF decompression (liblzf's format, which Redis uses for compressed RDB strings): a stream of
 * literal runs (a control byte below 32: that many plus one bytes follow) and back references
 * (length from the control byte's top 3 bits, plus a byte when they are all set; distance from
 * its low 5 bits and the next byte). Every read and copy is checked against the input and the
 * declared output length: a malformed input throws, it never reads or writes out of bounds.
 */
import { RdbError } from "./error.ts";

/** Decompresses `input` into exactly `length` bytes. @throws RdbError when it does not */
export function lzfDecompress(input: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > input.length || op + run > length) throw new RdbError("LZF literal run out of bounds");
      out.set(input.subarray(ip, ip + run), op);
      ip += run;
      op += run;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= input.length) throw new RdbError("LZF truncated back reference");
      len += input[ip++]!;
    }
    if (ip >= input.length) throw new RdbError("LZF truncated back reference");
    const ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++]!;
    len += 2;
    if (ref < 0 || op + len > length) throw new RdbError("LZF back reference out of bounds");
    // Byte by byte: a reference may overlap the bytes it produces (a run).
    for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
  }
  if (op !== length) throw new RdbError("LZF output shorter than declared");
  return out;
}
