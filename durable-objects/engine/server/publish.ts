import { toBytes } from "../bytes";
import { PubSubQuery, Publish, type Reply, defineCommand } from "../command";
import { RedisError, cArg } from "../errors";
import { compileGlob } from "../glob";
import type { SubscriptionCounts } from "../../protocol/pubsub";

/**
 * PUBLISH channel message → how many subscribers got it, in every region (node/publisher.ts).
 * Not logged: a message is not data. @see https://redis.io/docs/latest/commands/publish/
 */
export default defineCommand({
  name: "publish",
  arity: 3,
  flags: ["primary", "noscript"],
  keys: null,
  parse: ([channel, message]) => ({ channel: channel!, message: message! }),
  run: (_ctx, a) => new Publish(a.channel, a.message, false),
});

/** SPUBLISH shardchannel message: PUBLISH to the shard channel's subscribers (one shard: every node). @see https://redis.io/docs/latest/commands/spublish/ */
export const spublish = defineCommand({
  name: "spublish",
  arity: 3,
  flags: ["primary", "noscript"],
  keys: { first: 1, last: 1, step: 1 },
  parse: ([channel, message]) => ({ channel: channel!, message: message! }),
  run: (_ctx, a) => new Publish(a.channel, a.message, true),
});

const HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Print this help.",
];

/** Channels with subscribers matching `pattern` (all without one). */
function active(counts: readonly (readonly [string, number])[], pattern: string | undefined): Reply[] {
  const glob = pattern === undefined ? null : compileGlob(pattern);
  return counts.filter(([c, n]) => n > 0 && (glob === null || glob.test(c))).map(([c]) => toBytes(c));
}

/** [channel, subscribers, ...] for the channels asked. */
function numsub(counts: readonly (readonly [string, number])[], channels: readonly string[]): Reply[] {
  const by = new Map(counts);
  return channels.flatMap((c) => [toBytes(c), by.get(c) ?? 0]);
}

/**
 * PUBSUB CHANNELS | NUMSUB | NUMPAT | SHARDCHANNELS | SHARDNUMSUB | HELP, over the subscribers of
 * every region (the node gathers them). @see https://redis.io/docs/latest/commands/pubsub/
 */
export const pubsub = defineCommand({
  name: "pubsub",
  arity: -2,
  flags: ["primary"],
  keys: null,
  subcommands: { channels: -2, numsub: -2, numpat: 2, shardchannels: -2, shardnumsub: -2, help: 2 },
  parse: ([sub, ...rest]) => ({ sub: sub!.toLowerCase(), typed: sub!, rest }),
  run: (_ctx, a): Reply => {
    if (a.sub === "help") return HELP;
    if ((a.sub === "channels" || a.sub === "shardchannels") && a.rest.length > 1)
      throw new RedisError(`ERR unknown subcommand or wrong number of arguments for '${cArg(a.typed, 128)}'. Try PUBSUB HELP.`);
    return new PubSubQuery((c: SubscriptionCounts) => {
      switch (a.sub) {
        case "channels":
          return active(c.channels, a.rest[0]);
        case "shardchannels":
          return active(c.shardChannels, a.rest[0]);
        case "numsub":
          return numsub(c.channels, a.rest);
        case "shardnumsub":
          return numsub(c.shardChannels, a.rest);
        default:
          return c.patterns.length;
      }
    });
  },
});
