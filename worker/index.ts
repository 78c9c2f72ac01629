/** Entry point: the HTTP API and the Durable Object classes it talks to. */
import { app } from "./app";

export { FlaredisNode } from "../durable-objects/node/flaredis-node";
export { FlaredisSentinel } from "../durable-objects/sentinel/flaredis-sentinel";
export default app;
