/**
 * GET /admin/export (admin token): the primary's keyspace as an RDB file at one replication
 * offset (durable-objects/engine/export/rdb-export.ts), streamed a chunk at a time: each chunk is
 * one call to the primary, so neither the node nor the worker holds more than a chunk and one
 * key's value. The file's offset, history and version are in the response's headers. If the
 * export stops (the keyspace flushed, a failover), the stream errors and the file has no end, so
 * no loader takes it for whole. Backups (backups.ts) write the same stream to R2.
 */
import { systemClock } from "../durable-objects/engine/clock";
import type { ExportStart } from "../durable-objects/engine/export/rdb-export";
import { type Env, nodeStub } from "./env";
import { RequestError, shardedRefusal } from "./errors";
import { refreshSlotMap } from "./slot-map";
import { refreshTopology } from "./routing";

/** Bytes asked of the primary per call (a chunk is at least this, plus one key's value). */
export const EXPORT_CHUNK_BYTES = 1024 * 1024;

/** An export begun on the primary: what it says of itself and its bytes. */
export interface ExportStream {
  readonly start: ExportStart;
  readonly body: ReadableStream<Uint8Array>;
}

/** Begins an export on the primary. @throws RequestError when it cannot (409: one runs already) */
export async function beginExport(env: Env): Promise<ExportStream> {
  if ((await refreshSlotMap(env)).top > 1) throw shardedRefusal("an RDB export (and so a backup)");
  const { primary } = await refreshTopology(env);
  const start = await nodeStub(env, primary).exportBegin();
  if ("error" in start) throw new RequestError(start.error, start.error.includes("in progress") ? 409 : 503);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let answer: { bytes: Uint8Array | null } | { error: string };
        try {
          answer = await nodeStub(env, primary).exportChunk(start.id, EXPORT_CHUNK_BYTES);
        } catch (e) {
          // The call failed (the node restarted, or the network): the export, if it runs, stops now.
          await nodeStub(env, primary).exportStop(start.id).catch(() => {});
          controller.error(e);
          return;
        }
        if ("error" in answer) controller.error(new Error(answer.error));
        else if (answer.bytes === null) controller.close();
        else controller.enqueue(answer.bytes);
      },
      // The reader went away: the node stops the export now rather than at its idle bound.
      async cancel() {
        await nodeStub(env, primary).exportStop(start.id);
      },
    },
    { highWaterMark: 0 },
  );
  return { start, body };
}

/** The file name an export goes by: its time and offset. */
export const exportName = (start: ExportStart, at: number): string => `flaredis-${new Date(at).toISOString().replace(/[:.]/g, "-")}-${start.offset}.rdb`;

/** GET /admin/export's response. */
export async function exportResponse(env: Env): Promise<Response> {
  const { start, body } = await beginExport(env);
  return new Response(body, {
    headers: {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${exportName(start, systemClock.now())}"`,
      "flaredis-offset": String(start.offset),
      "flaredis-replid": start.replid,
      "flaredis-rdb-version": String(start.version),
      "flaredis-keys": String(start.keys),
    },
  });
}
