import { mkdtempSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileSystemOrderArchive } from '../../../src/adapters/fs/file-system-order-archive';

jest.mock('node:fs/promises', () => {
  const actual = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
  return { ...actual, open: jest.fn(actual.open), rename: jest.fn(actual.rename) };
});
const actualFs = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');

/**
 * Durability cannot be shown without pulling the plug, so the order of the calls is checked:
 * what the archive syncs, and when, relative to the rename that publishes the file.
 */
describe('FileSystemOrderArchive durability', () => {

  it('fsyncs the temporary file before the rename, then the directory, and the parents of directories it created', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'orderflow-fs-'));
    const events: string[] = [];
    const name = (p: string): string => {
      const relative = path.relative(root, p.toString()) || '<root>';
      return relative.endsWith('.tmp') ? '<temp>' : relative;
    };
    jest.mocked(fsPromises.open).mockImplementation(async (file, flags, mode) => {
      const handle = await actualFs.open(file, flags, mode);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        events.push(`sync ${name(file.toString())}`);
        return sync();
      };
      return handle;
    });
    jest.mocked(fsPromises.rename).mockImplementation(async (from, to) => {
      events.push(`rename ${name(from.toString())} -> ${name(to.toString())}`);
      return actualFs.rename(from, to);
    });

    const archive = new FileSystemOrderArchive(root);
    await archive.put('orders/dt=2026-11-22/orderId=o-1.json', Buffer.from('{"id":"o-1"}'));
    expect(events).toEqual([
      'sync orders',
      'sync <root>',
      'sync <temp>',
      'rename <temp> -> orders/dt=2026-11-22/orderId=o-1.json',
      'sync orders/dt=2026-11-22',
    ]);
    expect(await archive.get('orders/dt=2026-11-22/orderId=o-1.json')).toEqual(Buffer.from('{"id":"o-1"}'));

    events.length = 0;
    await archive.put('orders/dt=2026-11-22/orderId=o-2.json', Buffer.from('{"id":"o-2"}'));
    expect(events).toEqual(['sync <temp>', 'rename <temp> -> orders/dt=2026-11-22/orderId=o-2.json', 'sync orders/dt=2026-11-22']);
  });
});
