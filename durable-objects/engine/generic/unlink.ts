import { deleteKeys } from "./del";

/** UNLINK key [key ...] @see https://redis.io/docs/latest/commands/unlink/ */
export default deleteKeys("unlink");
