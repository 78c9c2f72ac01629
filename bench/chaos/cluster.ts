/**
 * The local topology under test and the admin API the run drives it with: who is primary now,
 * how many full syncs were served.
 */
import { HttpClient, type HttpReply, cfFrom } from "../lib/http.ts";
import { sleep } from "../lib/load.ts";
import type { Started } from "../lib/systems.ts";

export const NODES = ["enam", "wnam", "weur", "apac"] as const;
/** The sentinels (wrangler.toml's FLAREDIS_SENTINELS). */
export const SENTINELS = ["wnam", "weur", "apac"] as const;
/** A client near each node (its nearest replica is that node when it is a replica). */
export const NEAR: Record<string, string> = {
  weur: cfFrom(48.8566, 2.3522, "EU", "FR"), // Paris
  apac: cfFrom(35.6762, 139.6503, "AS", "JP"), // Tokyo
  wnam: cfFrom(37.7749, -122.4194, "NA", "US"), // San Francisco
  enam: cfFrom(40.7128, -74.006, "NA", "US"), // New York
};
export const PLACES = [NEAR.weur!, NEAR.apac!, NEAR.wnam!, NEAR.enam!];
/** A request left unanswered this long is abandoned (a failover holds writes up to 5 s). */
export const REQUEST_TIMEOUT_MS = 20_000;

/** Who is primary now: failovers move it (refreshed from /admin/topology before each fault). */
export interface Roles {
  primary: string;
  replicas: string[];
}

/** GET /admin/topology: from the primary, or from the sentinels (`from: "sentinels"`) when the primary cannot be asked. */
export type Topology = {
  from: "primary" | "sentinels";
  epoch: number;
  primary: { node: string; offset: number };
  replicas: { node: string; link: string; offset: number }[];
};

/** An admin call's answer, whatever came (status 0: no answer). */
export interface AdminReply {
  status: number;
  text: string;
}

/** An admin call (status 0: no answer). */
export type AdminCall = (path: string, body?: unknown) => Promise<AdminReply>;

/** A 2xx answer. */
export const ok = (r: { status: number }) => r.status >= 200 && r.status < 300;

/** An admin call retried until it answers 2xx, 4 times at most (a concurrent restart of the same node may fail one call). */
export async function undo(ctx: { admin: AdminCall }, path: string, body: unknown): Promise<boolean> {
  for (let i = 0; i < 4; i++) {
    if (ok(await ctx.admin(path, body))) return true;
    await sleep(250);
  }
  return false;
}

export class Cluster {
  readonly roles: Roles = { primary: "enam", replicas: ["wnam", "weur", "apac"] };
  private readonly admin: HttpClient;
  private syncs = 0;
  private readonly lastSyncFull = new Map<string, number>();

  constructor(system: Started) {
    this.admin = new HttpClient(system.url, "dev-admin-token", system.headers, 8);
  }

  /** An admin call that answers whatever came (status 0: no answer). */
  async try(path: string, body?: unknown): Promise<AdminReply> {
    try {
      const reply = body === undefined ? await this.admin.get(path, {}, REQUEST_TIMEOUT_MS) : await this.admin.post(path, body, {}, REQUEST_TIMEOUT_MS);
      return { status: reply.status, text: reply.body };
    } catch (e) {
      return { status: 0, text: String(e) };
    }
  }

  /** An admin call that must answer 200: its JSON (INFO's text). */
  async call(path: string, body?: unknown): Promise<unknown> {
    const r = await this.try(path, body);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
    return path.includes("/info") ? r.text : JSON.parse(r.text);
  }

  /** A POST with the admin token and no timeout of the run's (for the final reads). */
  post(path: string, body: unknown, headers: Record<string, string>): Promise<HttpReply> {
    return this.admin.post(path, body, headers);
  }

  /** Reads who is primary now. */
  async refreshRoles(): Promise<void> {
    const t = (await this.call("/admin/topology")) as { primary: { node: string }; replicas: { node: string }[] };
    this.roles.primary = t.primary.node;
    this.roles.replicas = t.replicas.map((r) => r.node);
  }

  /**
   * Full syncs served, by every node (a failover moves the serving). INFO's sync_full starts
   * again at 0 when a node restarts, so it is sampled before every fault and summed; one that
   * falls has been reset.
   */
  async countFullSyncs(): Promise<void> {
    for (const node of NODES) {
      const text = String(await this.call(`/admin/nodes/${node}/info?section=stats`));
      const count = Number(text.match(/sync_full:(\d+)/)?.[1] ?? 0);
      const last = this.lastSyncFull.get(node) ?? 0;
      this.syncs += count >= last ? count - last : count;
      this.lastSyncFull.set(node, count);
    }
  }

  /** Samples every node's count and starts the sum from 0. */
  async startCountingFullSyncs(): Promise<void> {
    await this.countFullSyncs();
    this.syncs = 0;
  }

  get fullSyncs(): number {
    return this.syncs;
  }

  close(): void {
    this.admin.close();
  }
}
