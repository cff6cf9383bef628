import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ReadableOrderArchivePort } from '../../application/ports/order-archive.port';

/**
 * The archive on a local disk, under the same Hive keys as object storage
 * (`<root>/orders/dt=…/orderId=….json`), so the embedded demo produces the layout a data lake
 * would. Writes go to a temporary file in the same directory and are renamed into place:
 * a reader never sees half an order, and a rewrite of a key replaces the file.
 */
export class FileSystemOrderArchive implements ReadableOrderArchivePort {
  private readonly root: string;
  /** Directories already created; mkdir on every write would double the syscalls. */
  private readonly knownDirectories = new Set<string>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.pathOf(key);
    const directory = path.dirname(target);
    if (!this.knownDirectories.has(directory)) {
      await mkdir(directory, { recursive: true });
      this.knownDirectories.add(directory);
    }
    const temporary = path.join(directory, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temporary, body);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  /** Deletes an object; deleting a missing one is not an error. */
  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (directory: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(directory, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.endsWith('.tmp')) keys.push(path.relative(this.root, full).split(path.sep).join('/'));
      }
    };
    await walk(this.root);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  /** Refuses keys that would land outside the root, whatever the caller validated before. */
  private pathOf(key: string): string {
    const segments = key.split('/');
    if (key.length === 0 || path.isAbsolute(key) || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`Unsafe archive key ${JSON.stringify(key)}`);
    }
    const resolved = path.resolve(this.root, ...segments);
    if (!resolved.startsWith(this.root + path.sep)) throw new Error(`Archive key ${JSON.stringify(key)} escapes ${this.root}`);
    return resolved;
  }
}
