import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { ReadableOrderArchivePort } from '../../application/ports/order-archive.port';

interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * Object storage in a Map: same keys, same overwrite-by-key semantics as COS, S3 and the filesystem.
 *
 * It holds nothing to open or release; its lifecycle only tells whether it is closed, so that a
 * command on the embedded default reports readiness as it would on COS. What it stores outlives
 * close(): a test that restarts a service on the same archive reads it, and start() reopens it.
 */
export class InMemoryOrderArchive implements ReadableOrderArchivePort, LifecyclePort {
  private readonly objects = new Map<string, StoredObject>();
  private closed = false;
  /** Writes accepted, rewrites included: the gap to `size` is the duplicate count. */
  puts = 0;

  async start(): Promise<void> {
    this.closed = false;
  }

  async ready(): Promise<void> {
    if (this.closed) throw new Error('the in-memory archive is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    this.puts++;
    // Copy, so a caller reusing its buffer cannot change what was stored.
    this.objects.set(key, { body: Buffer.from(body), contentType });
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.objects.get(key)?.body;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  contentTypeOf(key: string): string | undefined {
    return this.objects.get(key)?.contentType;
  }

  get size(): number {
    return this.objects.size;
  }
}
