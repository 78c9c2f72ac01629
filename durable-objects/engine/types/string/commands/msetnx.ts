import { multiSet } from "./mset";

/** MSETNX key value [key value ...] @see https://redis.io/docs/latest/commands/msetnx/ */
export default multiSet("msetnx", true);
