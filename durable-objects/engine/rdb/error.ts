/** A malformed or truncated RDB input (a DUMP payload or an RDB file). */
export class RdbError extends Error {}
