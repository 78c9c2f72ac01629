/**
 * Backups: RDB exports (export.ts) written to the R2 bucket bound as BACKUPS, by the Cron Trigger
 * (wrangler.toml's `[triggers]`) and by POST /admin/backups, keeping the newest
 * FLAREDIS_BACKUP_KEEP of them (7 by default). Each is one object, `flaredis-<time>-<offset>.rdb`,
 * uploaded in parts as the export streams (R2's multipart upload: every part but the last of one
 * size), so no backup is held in memory; an export that stops aborts its upload and leaves no
 * object. GET /admin/backups lists them, GET /admin/backups/NAME downloads one, and POST
 * /admin/backups/NAME/restore loads one (files up to IMPORT_MAX_BYTES; `flaredis restore NAME`
 * downloads and loads any size).
 */
import type { Env } from "./env";
import { RequestError } from "./errors";
import { type ExportStream, beginExport, exportName } from "./export";
import { IMPORT_MAX_BYTES, type ImportReport, importBytes } from "./import";

/** Bytes per uploaded part (R2 takes 5 MiB to 5 GiB, all but the last of one size). */
export const BACKUP_PART_BYTES = 8 * 1024 * 1024;
const PREFIX = "flaredis-";

export interface Backup {
  readonly name: string;
  readonly bytes: number;
  /** When it was uploaded (ms since the epoch). */
  readonly uploaded: number;
  /** The replication offset whose keyspace it holds, and its number of keys. */
  readonly offset: number;
  readonly keys: number;
}

function bucketOf(env: Env): R2Bucket {
  if (!env.BACKUPS) throw new RequestError("ERR backups are off: bind an R2 bucket as BACKUPS in wrangler.toml (see the README's Backups)", 404);
  return env.BACKUPS;
}

/** How many backups are kept: FLAREDIS_BACKUP_KEEP, 7 by default, at least 1. */
export function backupsKept(env: Env): number {
  const n = Number(env.FLAREDIS_BACKUP_KEEP ?? 7);
  return Number.isSafeInteger(n) && n >= 1 ? n : 7;
}

/** Exports the keyspace into a new backup, then deletes the oldest past the number kept. */
export async function makeBackup(env: Env, now: number): Promise<Backup> {
  return (await startBackup(env, now)).done;
}

/**
 * Begins a backup: the export has begun (or this throws: 409 while another runs) and `done`
 * settles when it is uploaded (BGSAVE answers between the two).
 */
export async function startBackup(env: Env, now: number): Promise<{ done: Promise<Backup> }> {
  const bucket = bucketOf(env);
  const exported = await beginExport(env);
  return { done: uploadExport(env, bucket, exported, now) };
}

async function uploadExport(env: Env, bucket: R2Bucket, { start, body }: ExportStream, now: number): Promise<Backup> {
  const name = exportName(start, now);
  let upload: R2MultipartUpload;
  try {
    upload = await bucket.createMultipartUpload(name, {
      httpMetadata: { contentType: "application/octet-stream" },
      customMetadata: { offset: String(start.offset), replid: start.replid, version: String(start.version), keys: String(start.keys) },
    });
  } catch (e) {
    await body.cancel().catch(() => {});
    throw e;
  }
  const parts: R2UploadedPart[] = [];
  let bytes = 0;
  const reader = body.getReader();
  try {
    const part = new Uint8Array(BACKUP_PART_BYTES);
    let filled = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = 0; at < value.length; ) {
        const n = Math.min(value.length - at, part.length - filled);
        part.set(value.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === part.length) {
          parts.push(await upload.uploadPart(parts.length + 1, part.slice()));
          filled = 0;
        }
      }
      bytes += value.length;
    }
    if (filled > 0 || parts.length === 0) parts.push(await upload.uploadPart(parts.length + 1, part.slice(0, filled)));
    await upload.complete(parts);
  } catch (e) {
    // An upload that failed stops the export too (an export that failed is stopped already).
    await reader.cancel().catch(() => {});
    await upload.abort();
    throw e;
  }
  await prune(bucket, backupsKept(env));
  return { name, bytes, uploaded: now, offset: start.offset, keys: start.keys };
}

/** Every backup, newest first. */
export async function listBackups(env: Env): Promise<Backup[]> {
  const out = (await backupObjects(bucketOf(env), true)).map((o) => ({
    name: o.key,
    bytes: o.size,
    uploaded: o.uploaded.getTime(),
    offset: Number(o.customMetadata?.offset ?? 0),
    keys: Number(o.customMetadata?.keys ?? 0),
  }));
  // Names start with the time they were made: newest first.
  return out.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/** Every backup's object in the bucket (R2 lists a page at a time), with its metadata when asked. */
async function backupObjects(bucket: R2Bucket, metadata: boolean): Promise<R2Object[]> {
  const out: R2Object[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await bucket.list({ prefix: PREFIX, cursor, ...(metadata ? { include: ["customMetadata" as const] } : {}) });
    out.push(...page.objects);
    if (!page.truncated) return out;
    cursor = page.cursor;
  }
}

async function prune(bucket: R2Bucket, keep: number): Promise<void> {
  const names = (await backupObjects(bucket, false)).map((o) => o.key);
  const old = names.sort().reverse().slice(keep);
  // R2 deletes at most 1,000 keys per call.
  for (let i = 0; i < old.length; i += 1000) await bucket.delete(old.slice(i, i + 1000));
}

/** A backup's object. @throws RequestError 404 when there is none of that name */
export async function backupObject(env: Env, name: string): Promise<R2ObjectBody> {
  const object = name.startsWith(PREFIX) ? await bucketOf(env).get(name) : null;
  if (object === null) throw new RequestError(`ERR no backup named ${name}`, 404);
  return object;
}

/** Loads backup `name` into the keyspace (after a FLUSHALL when `flush`), as POST /admin/import loads a file. */
export async function restoreBackup(env: Env, name: string, flush: boolean): Promise<ImportReport> {
  const object = await backupObject(env, name);
  if (object.size > IMPORT_MAX_BYTES) {
    await object.body.cancel();
    throw new RequestError(`ERR backup ${name} is ${object.size} bytes, more than the ${IMPORT_MAX_BYTES} a request loads: restore it with \`flaredis restore ${name}\``, 413);
  }
  return importBytes(env, new Uint8Array(await object.arrayBuffer()), flush);
}

/**
 * SAVE, BGSAVE and LASTSAVE as a request's only command (admin token): a backup now, awaited
 * (SAVE: OK) or not (BGSAVE: Redis's "Background saving started"; `background` keeps it running
 * after the answer, within the 30 s a Worker keeps such work: a larger keyspace's BGSAVE is cut
 * off, and its export stops at its idle bound), and the time of the newest backup in seconds
 * (LASTSAVE; 0 for none).
 * Redis's error texts: "Background save already in progress" while an export runs.
 */
export async function saveCommand(env: Env, argv: readonly string[], now: number, background: (work: Promise<unknown>) => void): Promise<string | number> {
  const name = argv[0]!.toLowerCase();
  if (name === "lastsave") {
    if (argv.length !== 1) throw new RequestError("ERR wrong number of arguments for 'lastsave' command", 400);
    const [newest] = await listBackups(env);
    return newest === undefined ? 0 : Math.floor(newest.uploaded / 1000);
  }
  if (name === "save" ? argv.length !== 1 : argv.length > 2 || (argv.length === 2 && argv[1]!.toLowerCase() !== "schedule"))
    throw new RequestError(name === "save" ? "ERR wrong number of arguments for 'save' command" : "ERR syntax error", 400);
  let started: { done: Promise<Backup> };
  try {
    started = await startBackup(env, now);
  } catch (e) {
    if (e instanceof RequestError && e.status === 409) throw new RequestError("ERR Background save already in progress", 409);
    throw e;
  }
  if (name === "save") {
    await started.done;
    return "OK";
  }
  background(started.done.catch((e: unknown) => console.error("flaredis: BGSAVE failed:", e)));
  return "Background saving started";
}

/** The commands `saveCommand` answers. */
export const isSaveCommand = (name: string | undefined): boolean => name !== undefined && ["save", "bgsave", "lastsave"].includes(name.toLowerCase());
