/**
 * `flaredis fill`: writes N keys (`<prefix><i>`, a value of B bytes: `value:<i>` padded with `x`,
 * or with `--binary` B bytes of every value, the same for the same i) with pipelined SETs, a few
 * requests in flight, and a progress bar on a terminal.
 */
import { fromText } from "../durable-objects/engine/bytes.ts";
import { FlaredisHttp } from "./http.ts";
import { progress } from "./progress.ts";

export interface FillOptions {
  url: string;
  token: string;
  keys: number;
  size: number;
  prefix: string;
  /** SETs per `/pipeline` request. */
  batch: number;
  /** Requests in flight at once. */
  parallel: number;
  /** Values of random bytes (any of the 256) rather than text. */
  binary?: boolean;
}

/** Key i's value: text, or (`binary`) `size` bytes drawn by a generator seeded with i, as a binary string. */
export function fillValue(i: number, size: number, binary = false): string {
  if (binary) {
    let x = (i + 1) * 0x9e3779b1;
    let out = "";
    for (let n = 0; n < size; n++) {
      // xorshift32
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out += String.fromCharCode(x & 0xff);
    }
    return out;
  }
  const base = `value:${i}`;
  return base.length >= size ? base.slice(0, size) : base + "x".repeat(size - base.length);
}

/** Resolves to the exit code: 0, or 1 when any SET failed (the first error is printed). */
export async function runFill(options: FillOptions): Promise<number> {
  const http = new FlaredisHttp(options.url, options.token);
  // Arguments are binary strings (http.ts): the prefix's UTF-8 bytes.
  const prefix = fromText(options.prefix);
  const bar = progress(options.keys, "keys");
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError = "";
  const worker = async () => {
    while (next < options.keys) {
      const from = next;
      const to = Math.min(options.keys, from + options.batch);
      next = to;
      const commands: string[][] = [];
      for (let i = from; i < to; i++) commands.push(["SET", `${prefix}${i}`, fillValue(i, options.size, options.binary)]);
      const outcomes = await http.send("pipeline", commands);
      // (null answers only a watched transaction: never a pipeline.)
      for (const outcome of Array.isArray(outcomes) ? outcomes : outcomes === null ? [] : [outcomes])
        if ("error" in outcome) {
          failed++;
          firstError ||= outcome.error;
        }
      bar.add(to - from);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel) }, worker));
  bar.done();
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(options.keys / Math.max(seconds, 1e-3));
  console.log(`filled ${options.keys - failed} of ${options.keys} keys (${options.size} bytes each) in ${seconds.toFixed(1)} s, ${rate} keys/s`);
  if (failed > 0) {
    console.error(`${failed} SETs failed; the first: ${firstError}`);
    return 1;
  }
  return 0;
}
