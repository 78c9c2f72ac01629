/**
 * A progress bar on stderr for long jobs, drawn only on a terminal (a pipe or a CI log gets
 * nothing), at most ten times a second. A total of null (not known ahead: an export's bytes)
 * draws the count and the rate without a bar.
 *
 * @example const bar = progress(100_000, "keys"); bar.add(1000); …; bar.done();
 */
import { systemClock } from "../durable-objects/engine/clock.ts";

export interface Progress {
  add(n: number): void;
  done(): void;
}

export function progress(total: number | null, unit: string, stream: NodeJS.WriteStream = process.stderr, now = systemClock.now): Progress {
  const started = now();
  let count = 0;
  let drawn = 0;
  const draw = () => {
    const width = 30;
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(count / seconds) : 0;
    if (total === null) stream.write(`\r${count} ${unit}  ${rate} ${unit}/s `);
    else {
      const ratio = total > 0 ? Math.min(1, count / total) : 1;
      const filled = Math.round(ratio * width);
      stream.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${count}/${total} ${unit}  ${rate} ${unit}/s `);
    }
    drawn = now();
  };
  if (!stream.isTTY) return { add: (n) => void (count += n), done: () => {} };
  return {
    add(n) {
      count += n;
      if (now() - drawn >= 100) draw();
    },
    done() {
      draw();
      stream.write("\n");
    },
  };
}
