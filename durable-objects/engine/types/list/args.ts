/** Lists' own argument rules (their counts and indexes are args.ts's `long` and `positive`). */
import { errors } from "../../errors";
import type { End } from "./list";

/** LEFT or RIGHT (any case). @throws ERR syntax error */
export function parseEnd(s: string): End {
  const upper = s.toUpperCase();
  if (upper === "LEFT") return "left";
  if (upper === "RIGHT") return "right";
  throw errors.syntax();
}
