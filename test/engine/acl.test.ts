// ACL users on the engine: ACL SETUSER's rules as redis-server 7.0 reads them, a user's calls
// checked by command, category, key pattern and channel with Redis's NOPERM texts, the ACL LOG,
// the tokens' users, and the users kept in the replicated CONFIG. The same rules are compared with
// redis-server's answers in test/interop/acl.test.ts.
import { describe, expect, it } from "vitest";
import { sha256hex } from "../../durable-objects/engine/acl/users";
import type { Engine } from "../../durable-objects/engine/engine";
import { Engine as EngineClass } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { ManualClock } from "../../durable-objects/engine/clock";
import { fixedRandom, newEngine, run } from "../support/fixtures";

const text = (r: unknown): unknown => (r instanceof Uint8Array ? new TextDecoder().decode(r) : Array.isArray(r) ? r.map(text) : r);

/** Runs argv as `user` with `password`: its reply, or its error's text. */
function as(engine: Engine, user: string, password: string, ...argv: string[]): unknown {
  const r = engine.run({ mode: "single", commands: [argv], permission: "admin", user: { name: user, pass: sha256hex(password) } });
  if (!("outcomes" in r)) return { error: r.error };
  const o = r.outcomes[0]!;
  return "error" in o ? { error: o.error } : text(o.result);
}

const admin = (engine: Engine, ...argv: string[]) => {
  const o = run(engine, ...argv);
  return "error" in o ? { error: o.error } : text(o.result);
};

function withApp() {
  const engine = newEngine();
  expect(admin(engine, "ACL", "SETUSER", "app", "on", ">secret", "~app:*", "+@read", "+@write", "-@dangerous")).toBe("OK");
  return engine;
}

describe("ACL users", () => {
  it("a user with ~app:* +@read +@write -@dangerous can SET app:x, not other:x nor FLUSHALL", () => {
    const engine = withApp();
    expect(as(engine, "app", "secret", "SET", "app:x", "1")).toBe("OK");
    expect(as(engine, "app", "secret", "GET", "app:x")).toBe("1");
    expect(as(engine, "app", "secret", "SET", "other:x", "1")).toEqual({ error: "NOPERM this user has no permissions to access one of the keys used as arguments" });
    expect(as(engine, "app", "secret", "FLUSHALL")).toEqual({ error: "NOPERM this user has no permissions to run the 'flushall' command" });
    expect(as(engine, "app", "secret", "CONFIG", "GET", "maxmemory")).toEqual({ error: "NOPERM this user has no permissions to run the 'config|get' command" });
    expect(as(engine, "app", "secret", "PUBLISH", "ch", "m")).toEqual({ error: "NOPERM this user has no permissions to run the 'publish' command" });
    expect(as(engine, "app", "wrong", "GET", "app:x")).toEqual({ error: "WRONGPASS invalid username-password pair or user is disabled." });
    expect(admin(engine, "EXISTS", "other:x")).toBe(0);
  });

  it("describes users as ACL LIST and GETUSER do; the tokens are the users admin, default and readonly", () => {
    const engine = withApp();
    const hash = sha256hex("secret");
    const list = admin(engine, "ACL", "LIST") as string[];
    expect(list).toContain(`user app on #${hash} ~app:* resetchannels -@all +@read +@write -@dangerous`);
    expect(list.find((l) => l.startsWith("user admin "))).toBe("user admin on ~* &* +@all");
    expect(admin(engine, "ACL", "USERS")).toEqual(["admin", "app", "default", "readonly"]);
    expect(admin(engine, "ACL", "GETUSER", "app")).toEqual(["flags", ["on"], "passwords", [hash], "commands", "-@all +@read +@write -@dangerous", "keys", "~app:*", "channels", "", "selectors", []]);
    expect(admin(engine, "ACL", "GETUSER", "nobody")).toBe(null);
    expect(admin(engine, "ACL", "WHOAMI")).toBe("admin");
    expect(as(engine, "app", "secret", "ACL", "WHOAMI")).toEqual({ error: "NOPERM this user has no permissions to run the 'acl|whoami' command" });
    expect(admin(engine, "ACL", "SETUSER", "default", "off")).toEqual({ error: "ERR The 'default' user is one of the deployment's tokens (FLAREDIS_TOKEN): change it with wrangler secret put" });
    expect(admin(engine, "ACL", "DELUSER", "default")).toEqual({ error: "ERR The 'default' user cannot be removed" });
  });

  it("reads rules as Redis does, with its errors, and applies them in order", () => {
    const engine = newEngine();
    expect(admin(engine, "ACL", "SETUSER", "u", "foo")).toEqual({ error: "ERR Error in ACL SETUSER modifier 'foo': Syntax error" });
    expect(admin(engine, "ACL", "SETUSER", "u", "+@nope")).toEqual({ error: "ERR Error in ACL SETUSER modifier '+@nope': Unknown command or category name in ACL" });
    expect(admin(engine, "ACL", "SETUSER", "u", "+nope")).toEqual({ error: "ERR Error in ACL SETUSER modifier '+nope': Unknown command or category name in ACL" });
    expect(admin(engine, "ACL", "SETUSER", "u", "#abc")).toEqual({ error: "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters" });
    expect(admin(engine, "ACL", "SETUSER", "u", "<nopw")).toEqual({ error: "ERR Error in ACL SETUSER modifier '<nopw': The password you are trying to remove from the user does not exist" });
    // A rule that fails changes nothing: no user was made.
    expect(admin(engine, "ACL", "GETUSER", "u")).toBe(null);
    expect(admin(engine, "ACL", "SETUSER", "u", "on", "nopass", "~a*", "%R~r*", "&ch*", "+get", "+config|get", "-@all", "+@read")).toBe("OK");
    expect(admin(engine, "ACL", "LIST")).toContain("user u on nopass ~a* %R~r* resetchannels &ch* -@all +@read");
    expect(as(engine, "u", "anything", "GET", "r1")).toBe(null);
    expect(as(engine, "u", "", "SET", "r1", "v")).toEqual({ error: "NOPERM this user has no permissions to run the 'set' command" });
    expect(admin(engine, "ACL", "SETUSER", "u", "+set")).toBe("OK");
    expect(as(engine, "u", "", "SET", "r1", "v")).toEqual({ error: "NOPERM this user has no permissions to access one of the keys used as arguments" });
    expect(as(engine, "u", "", "SET", "a1", "v")).toBe("OK");
    expect(admin(engine, "ACL", "SETUSER", "u", "~b")).toBe("OK");
    expect(admin(engine, "ACL", "SETUSER", "u", "allkeys")).toBe("OK");
    expect(admin(engine, "ACL", "SETUSER", "u", "~c")).toEqual({
      error: "ERR Error in ACL SETUSER modifier '~c': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
    });
    expect(admin(engine, "ACL", "SETUSER", "u", "off")).toBe("OK");
    expect(as(engine, "u", "", "GET", "a1")).toEqual({ error: "WRONGPASS invalid username-password pair or user is disabled." });
    expect(admin(engine, "ACL", "DELUSER", "u", "nobody")).toBe(1);
  });

  it("holds a script's calls and a MULTI's commands to the user's rules", () => {
    const engine = withApp();
    expect(admin(engine, "ACL", "SETUSER", "app", "+eval")).toBe("OK");
    expect(as(engine, "app", "secret", "EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "app:s")).toBe("OK");
    expect(as(engine, "app", "secret", "EVAL", "return redis.call('set', 'other', 'v')", "0")).toEqual({
      error: expect.stringContaining("The user executing the script can't access at least one of the keys mentioned in the command arguments"),
    });
    const multi = engine.run({ mode: "multi", commands: [["SET", "app:m", "1"], ["FLUSHALL"]], permission: "admin", user: { name: "app", pass: sha256hex("secret") } });
    expect(multi).toMatchObject({ error: "EXECABORT Transaction discarded because of previous errors." });
  });

  it("ACL DRYRUN, CAT, GENPASS and LOG", () => {
    const engine = withApp();
    expect(admin(engine, "ACL", "DRYRUN", "app", "set", "app:1", "v")).toBe("OK");
    expect(admin(engine, "ACL", "DRYRUN", "app", "set", "other", "v")).toBe("This user has no permissions to access the 'other' key");
    expect(admin(engine, "ACL", "DRYRUN", "app", "flushall")).toBe("This user has no permissions to run the 'flushall' command");
    expect(admin(engine, "ACL", "DRYRUN", "nouser", "get", "x")).toEqual({ error: "ERR User 'nouser' not found" });
    expect(admin(engine, "ACL", "DRYRUN", "app", "get")).toEqual({ error: "ERR wrong number of arguments for 'get' command" });
    expect(admin(engine, "ACL", "DRYRUN", "readonly", "set", "k", "v")).toBe("This user has no permissions to run the 'set' command");
    expect((admin(engine, "ACL", "CAT") as string[]).slice(0, 3)).toEqual(["keyspace", "read", "write"]);
    expect(admin(engine, "ACL", "CAT", "hash")).toContain("hexpire");
    expect(admin(engine, "ACL", "CAT", "nope")).toEqual({ error: "ERR Unknown category 'nope'" });
    expect((admin(engine, "ACL", "GENPASS") as string).length).toBe(64);
    expect((admin(engine, "ACL", "GENPASS", "5") as string).length).toBe(2);
    as(engine, "app", "secret", "FLUSHALL");
    as(engine, "app", "secret", "FLUSHALL");
    as(engine, "app", "secret", "SET", "other", "v");
    const entries = admin(engine, "ACL", "LOG") as unknown[][];
    expect(entries.map((e) => [e[1], e[3], e[5], e[7], e[9]])).toEqual([
      [1, "key", "toplevel", "other", "app"],
      [2, "command", "toplevel", "flushall", "app"],
    ]);
    expect(admin(engine, "ACL", "LOG", "RESET")).toBe("OK");
    expect(admin(engine, "ACL", "LOG")).toEqual([]);
  });

  it("keeps users in the CONFIG a replica adopts, and a restart reads them back", () => {
    const storage = new MemoryStorage();
    const engine = new EngineClass(storage, { clock: new ManualClock(), random: fixedRandom, node: "test" });
    expect(admin(engine, "ACL", "SETUSER", "app", "on", ">secret", "~app:*", "+@all")).toBe("OK");
    const replica = newEngine();
    replica.adoptConfig(engine.config, engine.configVersion);
    expect(as(replica, "app", "secret", "GET", "app:1")).toBe(null);
    const again = new EngineClass(storage, { clock: new ManualClock(), random: fixedRandom, node: "test" });
    expect(as(again, "app", "secret", "SET", "app:1", "v")).toBe("OK");
    // The users are not a parameter: CONFIG GET lists none of them.
    expect(admin(again, "CONFIG", "GET", "acl*")).toEqual(["acl-pubsub-default", "resetchannels", "aclfile", "", "acllog-max-len", "128"]);
  });

  it("holds SORT's patterns, write-only patterns, WATCH and redis.acl_check_cmd to the rules (review)", () => {
    const engine = newEngine();
    expect(admin(engine, "ACL", "SETUSER", "w", "on", ">p", "~mine:*", "%W~drop:*", "+@all")).toBe("OK");
    run(engine, "RPUSH", "mine:l", "a");
    run(engine, "SET", "drop:x", "secret");
    // SORT BY a pattern or GET needs every key readable.
    expect(as(engine, "w", "p", "SORT", "mine:l", "BY", "nosort", "GET", "*", "ALPHA")).toEqual({ error: "ERR GET option of SORT denied due to insufficient ACL permissions." });
    expect(as(engine, "w", "p", "SORT", "mine:l", "BY", "w_*", "ALPHA")).toEqual({ error: "ERR BY option of SORT denied due to insufficient ACL permissions." });
    expect(as(engine, "w", "p", "SORT", "mine:l", "BY", "nosort")).toEqual(["a"]);
    // A write-only pattern lets a write that reads nothing through, not one that reads the value.
    expect(as(engine, "w", "p", "SET", "drop:y", "v")).toBe("OK");
    expect(as(engine, "w", "p", "DEL", "drop:y")).toBe(1);
    expect(as(engine, "w", "p", "GETDEL", "drop:x")).toEqual({ error: "NOPERM this user has no permissions to access one of the keys used as arguments" });
    expect(as(engine, "w", "p", "COPY", "drop:x", "mine:c")).toEqual({ error: "NOPERM this user has no permissions to access one of the keys used as arguments" });
    expect(as(engine, "w", "p", "SET", "drop:x", "v", "GET")).toEqual({ error: "NOPERM this user has no permissions to access one of the keys used as arguments" });
    // A transaction's WATCH names keys too.
    const watched = engine.run({ mode: "multi", commands: [["SET", "mine:a", "1"]], permission: "admin", user: { name: "w", pass: sha256hex("p") }, watch: { replid: engine.log.replid, offset: engine.log.offset, keys: ["other"] } });
    expect(watched).toMatchObject({ error: "NOPERM this user has no permissions to access one of the keys used as arguments" });
    // redis.acl_check_cmd answers for the user.
    expect(as(engine, "w", "p", "EVAL", "return {redis.acl_check_cmd('set', 'mine:1', 'v'), redis.acl_check_cmd('set', 'other', 'v')}", "0")).toEqual([1, null]);
    expect(admin(engine, "ACL", "SETUSER", "a:b")).toEqual({ error: "ERR Usernames can't contain ':' in Flaredis (a user's token is user:password)" });
  });
});
