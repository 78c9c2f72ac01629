// Captures redis-server's command table into durable-objects/engine/server/redis-commands.json:
// `COMMAND INFO` and `COMMAND DOCS` of every command (RESP2 replies, as JSON). Flaredis's COMMAND
// (durable-objects/engine/server/command.ts) answers from its own table, taking from this file what
// Redis says of each command it serves (flags, key specs, tips, docs); a command this server lacks
// gets what Flaredis's table knows.
//   redis-server --port 6399 --save "" & node test/data/capture-redis-commands.mjs 6399
import { writeFileSync } from "node:fs";
import Redis from "ioredis";

const OUT = new URL("../../durable-objects/engine/server/redis-commands.json", import.meta.url);

const redis = new Redis({ port: Number(process.argv[2] ?? 6379), lazyConnect: true, maxRetriesPerRequest: 0 });
await redis.connect();
const version = /redis_version:(\S+)/.exec(await redis.info("server"))[1];
const info = Object.fromEntries((await redis.call("COMMAND", "INFO")).map((c) => [c[0], c]));
const flat = await redis.call("COMMAND", "DOCS");
const docs = {};
for (let i = 0; i < flat.length; i += 2) docs[flat[i]] = flat[i + 1];
redis.disconnect();
const sorted = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
writeFileSync(OUT, `${JSON.stringify({ source: `COMMAND INFO and COMMAND DOCS of redis-server ${version}`, info: sorted(info), docs: sorted(docs) })}\n`);
console.log(`${Object.keys(info).length} commands from redis-server ${version}`);
