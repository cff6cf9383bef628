import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { ReadableOrderArchivePort } from '../../application/ports/order-archive.port';

/**
 * The archive on a local disk, under the same Hive keys as object storage
 * (`<root>/orders/dt=…/orderId=….json`), so the embedded demo produces the layout a data lake
 * would. Writes go to a temporary file in the same directory and are renamed into place:
 * a reader never sees half an order, and a rewrite of a key replaces the file.
 *
 * A put resolves only once the order is on the disk, because the caller commits the offset
 * right after: the temporary file is fsynced before the rename (or a power cut could leave the
 * renamed file empty), and the directory after it (or the rename itself could be lost), as are
 * the parents of directories it created.
 *
 * It holds no handle between writes, so close() only marks it closed (it is not ready then); a
 * later start() opens it again.
 */
export class FileSystemOrderArchive implements ReadableOrderArchivePort, LifecyclePort {
  private readonly root: string;
  /** Directories already created; mkdir on every write would double the syscalls. */
  private readonly knownDirectories = new Set<string>();
  private closed = false;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Creates the root directory (and its parents) if missing. */
  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true }).catch((error: unknown) => {
      throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? this.notADirectory() : this.unusable(error);
    });
    this.closed = false;
  }

  /** The root is a directory this process may write in. */
  async ready(): Promise<void> {
    if (this.closed) throw new Error(`the archive directory ${this.root} is closed`);
    const found = await stat(this.root).catch((error: unknown) => {
      throw this.unusable(error);
    });
    if (!found.isDirectory()) throw this.notADirectory();
    await access(this.root, constants.W_OK | constants.X_OK).catch((error: unknown) => {
      throw this.unusable(error);
    });
  }

  /** Writes a probe and deletes it: what a put does, fsyncs included. */
  async verify(): Promise<void> {
    await this.ready();
    const probe = `_orderflow-check/probe-${process.pid}-${randomBytes(4).toString('hex')}.json`;
    await this.put(probe, Buffer.from('{}'));
    await this.remove(probe);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.pathOf(key);
    const directory = path.dirname(target);
    if (!this.knownDirectories.has(directory)) {
      const firstCreated = await mkdir(directory, { recursive: true });
      if (firstCreated !== undefined) {
        // Each new directory's entry lives in its parent: from the parent of the first one down.
        for (let dir = directory; dir !== path.dirname(firstCreated); dir = path.dirname(dir)) await syncDirectory(path.dirname(dir));
      }
      this.knownDirectories.add(directory);
    }
    const temporary = path.join(directory, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(body);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncDirectory(directory);
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

  private notADirectory(): Error {
    return new Error(`the archive directory ${this.root} is not a directory (a file is in its place)`);
  }

  /** Why the root cannot serve, in words for /readyz: the path and the errno, nothing else. */
  private unusable(error: unknown): Error {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new Error(`the archive directory ${this.root} does not exist`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new Error(`the archive directory ${this.root} is not writable (${code})`);
    return new Error(`the archive directory ${this.root} cannot be used (${code ?? String(error)})`);
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

/** Makes a directory's entries (a rename, a new file or subdirectory) durable. */
const syncDirectory = async (directory: string): Promise<void> => {
  // Windows cannot open a directory for fsync, and NTFS journals renames itself.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};
