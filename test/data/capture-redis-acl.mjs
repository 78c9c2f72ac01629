// Captures redis-server's ACL categories into durable-objects/engine/acl/redis-categories.json:
// for each category that `ACL CAT` lists, the commands and subcommands (`config|get`) that
// `ACL CAT <category>` lists. Flaredis's ACL rules (+@read, -@dangerous...) read them
// (durable-objects/engine/acl/categories.ts); a command Redis 7.0 does not have gets categories
// from its flags and type there.
//   redis-server --port 6399 --save "" & node test/data/capture-redis-acl.mjs 6399
import { writeFileSync } from "node:fs";
import Redis from "ioredis";

const OUT = new URL("../../durable-objects/engine/acl/redis-categories.json", import.meta.url);

const redis = new Redis({ port: Number(process.argv[2] ?? 6379), lazyConnect: true, maxRetriesPerRequest: 0 });
await redis.connect();
const version = /redis_version:(\S+)/.exec(await redis.info("server"))[1];
const categories = {};
for (const category of await redis.call("ACL", "CAT")) categories[category] = (await redis.call("ACL", "CAT", category)).sort();
redis.disconnect();
writeFileSync(OUT, `${JSON.stringify({ source: `ACL CAT of redis-server ${version}`, categories }, null, 0).replace(/\],/g, "],\n")}\n`);
console.log(`${Object.keys(categories).length} categories from redis-server ${version}`);
