/** The keyspace and its overlay (keyspace/: the keyspace, the change overlay, the hot cache). */
export { Change } from "./keyspace/change";
export { type Effect, Keyspace, type KeyspaceLimits, type Role } from "./keyspace/keyspace";
