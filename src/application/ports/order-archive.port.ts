/**
 * Where enriched orders end up. `put` must be idempotent by key: a redelivered order rewrites
 * the same object, which is what makes at-least-once delivery safe (adr/0006).
 */
export interface OrderArchivePort {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
}

/** Reading back is for tests, checks and tooling; the pipeline itself never reads. */
export interface ReadableOrderArchivePort extends OrderArchivePort {
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<string[]>;
}
