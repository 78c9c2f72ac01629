/**
 * Redis's glob-style pattern matching (KEYS, SCAN MATCH): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and
 * `\` to escape. Compiled once per call to a RegExp.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) out += escape(pattern[++i]!);
    else if (c === "[") {
      const close = findClose(pattern, i + 1);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      let cls = "";
      for (let j = 0; j < body.length; j++) {
        const b = body[j]!;
        if (b === "\\" && j + 1 < body.length) cls += escapeInClass(body[++j]!);
        else if (body[j + 1] === "-" && j + 2 < body.length) {
          const [lo, hi] = [b, body[j + 2]!].sort();
          cls += `${escapeInClass(lo!)}-${escapeInClass(hi!)}`;
          j += 2;
        } else cls += escapeInClass(b);
      }
      out += cls === "" ? (negate ? "[\\s\\S]" : "(?!)") : `[${negate ? "^" : ""}${cls}]`;
      i = close;
    } else out += escape(c);
  }
  return new RegExp(`^${out}$`, "u");
}

function findClose(p: string, from: number): number {
  for (let i = from; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "]") return i;
  }
  return -1;
}

// With the `u` flag a RegExp rejects needless escapes, so outside and inside a class differ.
const escape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
const escapeInClass = (c: string) => c.replace(/[\\\]\[^-]/g, "\\$&");
