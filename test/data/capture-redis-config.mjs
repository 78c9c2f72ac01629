// Captures redis-server's CONFIG table into test/data/redis-config.json: every parameter that
// `CONFIG GET *` lists, its value, what `CONFIG SET` of it to that value answers, and what
// probes answer (a word, 0, the int64 ends, the uint64 end), from which Flaredis's table
// (durable-objects/engine/config-table.ts) took each parameter's kind and range; the test
// test/engine/config-table.test.ts holds Flaredis to this file. A probe that a server takes is set back
// at once. An error of CONFIG SET's own form is kept as "-- " and its text after the name.
//   redis-server --port 6399 --dir /tmp/cfgcap --save "" & node test/data/capture-redis-config.mjs 6399
import { writeFileSync } from "node:fs";
import Redis from "ioredis";

const FIXTURE = new URL("./redis-config.json", import.meta.url);
/** A reply as kept: "OK", or "-" and an error's text, CONFIG SET's common start left out ("- " after the name). */
const short = (reply) => reply.replace(/^-ERR CONFIG SET failed \(possibly related to argument '[^']*'\) - /, "-- ");
const PROBES = { word: "flaredis-probe", zero: "0", llmin: "-9223372036854775808", llmax: "9223372036854775807", ullmax: "18446744073709551615" };

async function capture(port) {
  const redis = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect();
  const answer = async (...args) => {
    try {
      return String(await redis.call(...args));
    } catch (e) {
      return `-${e.message}`;
    }
  };
  const version = /redis_version:(\S+)/.exec(await redis.info("server"))[1];
  const flat = await redis.call("CONFIG", "GET", "*");
  const params = [];
  for (let i = 0; i < flat.length; i += 2) {
    const [name, value] = [flat[i], flat[i + 1]];
    const self = short(await answer("CONFIG", "SET", name, value));
    const probes = {};
    for (const [probe, arg] of Object.entries(PROBES)) {
      probes[probe] = short(await answer("CONFIG", "SET", name, arg));
      if (probes[probe] === "OK") await answer("CONFIG", "SET", name, value);
    }
    params.push({ name, value, self, probes });
  }
  params.sort((a, b) => (a.name < b.name ? -1 : 1));
  redis.disconnect();
  return { source: `CONFIG GET * of redis-server ${version} (Debian), started with --port ${port} --save "" and a --dir of its own`, version, params };
}

const port = Number(process.argv[2]);
const fixture = await capture(port);
writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 1)}\n`);
console.log(`${fixture.params.length} parameters of redis-server ${fixture.version}`);
