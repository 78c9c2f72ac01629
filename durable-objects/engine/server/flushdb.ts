import { flush } from "./flushall";

/** FLUSHDB [ASYNC|SYNC] @see https://redis.io/docs/latest/commands/flushdb/ */
export default flush("flushdb");
