import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSystemOrderArchive } from '../../../src/adapters/fs/file-system-order-archive';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { ReadableOrderArchivePort } from '../../../src/application/ports/order-archive.port';
import { describeOrderArchiveContract } from '../../contract/order-archive.contract';

const aTemporaryDirectory = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'orderflow-archive-'));

/** Every file under `root`, relative to it, hidden temporaries included. */
const filesUnder = async (root: string): Promise<string[]> =>
  (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));

describeOrderArchiveContract('InMemoryOrderArchive', async () => ({ archive: new InMemoryOrderArchive(), prefix: 'orders' }));

describeOrderArchiveContract('FileSystemOrderArchive', async () => {
  const root = await aTemporaryDirectory();
  return { archive: new FileSystemOrderArchive(root), prefix: 'orders', cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('FileSystemOrderArchive', () => {
  const key = 'orders/dt=2026-11-22/orderId=o-1001.json';
  let root: string;
  // Through the port, as the use case sees it.
  let archive: ReadableOrderArchivePort;

  beforeEach(async () => {
    root = await aTemporaryDirectory();
    archive = new FileSystemOrderArchive(root);
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes through a temporary file it never leaves behind', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => archive.put(key, Buffer.from(`{"attempt":${i}}`), 'application/json')));
    expect(await filesUnder(root)).toEqual([key]);
  });

  it('removes its temporary file when the rename into place fails', async () => {
    // A directory where the object should go makes the rename fail after the write succeeded.
    await mkdir(path.join(root, key), { recursive: true });
    await expect(archive.put(key, Buffer.from('{}'), 'application/json')).rejects.toThrow();
    expect(await filesUnder(root)).toEqual([]);
  });

  it.each([
    ['a parent reference', '../outside.json'],
    ['a parent reference inside the key', 'orders/../../outside.json'],
    ['an absolute path', path.resolve(os.tmpdir(), 'outside.json')],
    ['an empty segment', 'orders//o-1.json'],
    ['a current-directory segment', 'orders/./o-1.json'],
    ['an empty key', ''],
  ])('refuses a key with %s, reading or writing', async (_, unsafe) => {
    await expect(archive.put(unsafe, Buffer.from('{}'), 'application/json')).rejects.toThrow('Unsafe archive key');
    await expect(archive.get(unsafe)).rejects.toThrow('Unsafe archive key');
    expect(await filesUnder(root)).toEqual([]);
  });
});
