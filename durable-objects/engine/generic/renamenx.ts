import { renameCommand } from "./rename";

/** RENAMENX key newkey @see https://redis.io/docs/latest/commands/renamenx/ */
export default renameCommand("renamenx", true);
