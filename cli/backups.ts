/**
 * `flaredis backups`, `flaredis backup` and `flaredis restore NAME`: the deployment's backups in
 * R2 (worker/backups.ts) through the admin API. A restore downloads the backup (any size) and
 * loads it as `flaredis import FILE` does: checked whole first, so a damaged backup changes nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlaredisHttp } from "./http.ts";
import { download, runFileImport } from "./rdb-file.ts";

/** A backup as GET /admin/backups lists it (worker/backups.ts's Backup: the CLI's typecheck has no Worker types to import it with). */
interface Backup {
  name: string;
  bytes: number;
  uploaded: number;
  offset: number;
  keys: number;
}

export interface BackupOptions {
  url: string;
  token: string;
}

/** Lists the backups, newest first. Resolves to the exit code. */
export async function runBackups(options: BackupOptions): Promise<number> {
  const { kept, backups } = (await (await new FlaredisHttp(options.url, options.token).admin("/admin/backups")).json()) as { kept: number; backups: Backup[] };
  if (backups.length === 0) console.log("no backups yet");
  for (const b of backups) console.log(`${b.name}  ${new Date(b.uploaded).toISOString()}  ${b.keys} keys  ${b.bytes} bytes  offset ${b.offset}`);
  console.log(`(the newest ${kept} are kept)`);
  return 0;
}

/** Makes a backup now. Resolves to the exit code. */
export async function runBackup(options: BackupOptions): Promise<number> {
  const b = (await (await new FlaredisHttp(options.url, options.token).admin("/admin/backups", "POST")).json()) as Backup;
  console.log(`backed up ${b.keys} keys at offset ${b.offset} as ${b.name} (${b.bytes} bytes)`);
  return 0;
}

/** Downloads backup `name` and loads it. Resolves to the exit code. */
export async function runRestore(options: BackupOptions & { name: string; flush: boolean }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "flaredis-restore-"));
  try {
    const file = join(dir, "backup.rdb");
    const response = await new FlaredisHttp(options.url, options.token).admin(`/admin/backups/${encodeURIComponent(options.name)}`);
    await download(response, file, Number(response.headers.get("content-length") ?? 0));
    return await runFileImport({ url: options.url, token: options.token, file, flush: options.flush });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
