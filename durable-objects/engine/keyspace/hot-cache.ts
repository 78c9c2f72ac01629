/** The hot cache: recently used entries in front of SQLite, bounded by bytes (see keyspace.ts). */
import type { Entry } from "../storage";

const ENTRY_OVERHEAD = 64;
const sizeOf = (key: string, e: Entry | null) => ENTRY_OVERHEAD + key.length * 2 + (e ? e.value.length : 0);

/** Recently used entries, including known-absent keys (null), bounded by bytes. */
export class HotCache {
  private map = new Map<string, Entry | null>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  has(key: string): boolean {
    return this.map.has(key);
  }
  get(key: string): Entry | null | undefined {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.map.delete(key);
      this.map.set(key, e); // most recently used last
    }
    return e;
  }
  set(key: string, e: Entry | null): void {
    this.drop(key);
    this.map.set(key, e);
    this.bytes += sizeOf(key, e);
    for (const [k] of this.map) {
      if (this.bytes <= this.budget) break;
      this.drop(k);
    }
  }
  drop(key: string): void {
    if (!this.map.has(key)) return;
    this.bytes -= sizeOf(key, this.map.get(key)!);
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
  get size(): number {
    return this.bytes;
  }
}
