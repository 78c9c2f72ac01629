import { setWithExpiry } from "./setex";

/** PSETEX key milliseconds value @see https://redis.io/docs/latest/commands/psetex/ */
export default setWithExpiry("psetex", "PX");
