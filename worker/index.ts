/** Entry point: the HTTP API and the Durable Object class it talks to. */
import { app } from "./app";

export { FlaredisNode } from "../durable-objects/node";
export default app;
