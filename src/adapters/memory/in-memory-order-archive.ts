import { ReadableOrderArchivePort } from '../../application/ports/order-archive.port';

interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
}

/** Object storage in a Map: same keys, same overwrite-by-key semantics as COS, S3 and the filesystem. */
export class InMemoryOrderArchive implements ReadableOrderArchivePort {
  private readonly objects = new Map<string, StoredObject>();
  /** Writes accepted, rewrites included: the gap to `size` is the duplicate count. */
  puts = 0;

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
