/** FUNCTION LIST's and FUNCTION STATS's replies, as Redis 7 gives them over RESP2 (functions.c). */
import { toBytes } from "../bytes";
import type { Reply } from "../command";
import { compileGlob } from "../glob";
import type { Library } from "./functions";

/** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: a pattern matches library names without regard to case, as Redis's. */
export function listReply(libraries: Iterable<Library>, pattern: string | null, withCode: boolean): Reply {
  const glob = pattern === null ? null : compileGlob(pattern.toLowerCase());
  const out: Reply[] = [];
  for (const lib of libraries) {
    if (glob && !glob.test(lib.name.toLowerCase())) continue;
    const functions = [...lib.functions.values()].map((f) => [
      toBytes("name"),
      toBytes(f.name),
      toBytes("description"),
      f.description,
      toBytes("flags"),
      [...f.flags],
    ]);
    const entry: Reply[] = [toBytes("library_name"), toBytes(lib.name), toBytes("engine"), toBytes("LUA"), toBytes("functions"), functions];
    if (withCode) entry.push(toBytes("library_code"), toBytes(lib.code));
    out.push(entry);
  }
  return out;
}

/** FUNCTION STATS: no function runs while a command is served, so `running_script` is always nil. */
export function statsReply(libraries: number, functions: number): Reply {
  return [toBytes("running_script"), null, toBytes("engines"), [toBytes("LUA"), [toBytes("libraries_count"), libraries, toBytes("functions_count"), functions]]];
}
