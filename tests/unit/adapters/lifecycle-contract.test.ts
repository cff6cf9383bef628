import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSystemOrderArchive } from '../../../src/adapters/fs/file-system-order-archive';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { Delivery } from '../../../src/application/ports/message-bus.port';
import { describeLifecycleContract } from '../../contract/lifecycle.contract';
import { wireBytes, aWireOrder } from '../../support/builders';

const aTemporaryDirectory = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'orderflow-lifecycle-'));
const KEY = 'orders/dt=2026-11-22/orderId=o-1.json';

describeLifecycleContract('InMemoryOrderArchive', async () => {
  const archive = new InMemoryOrderArchive();
  return { resource: archive, use: () => archive.put(KEY, Buffer.from('{}'), 'application/json') };
});

describeLifecycleContract('InMemoryMessageBus', async () => {
  const bus = new InMemoryMessageBus();
  return { resource: bus, use: () => bus.publish('orders', [{ key: 'o-1', value: Buffer.from('{}') }]) };
});

describeLifecycleContract('FileSystemOrderArchive', async () => {
  const root = await aTemporaryDirectory();
  const archive = new FileSystemOrderArchive(path.join(root, 'data'));
  return {
    resource: archive,
    use: () => archive.put(KEY, Buffer.from('{}')),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FileSystemOrderArchive lifecycle', () => {
  let root: string;

  beforeEach(async () => {
    root = await aTemporaryDirectory();
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('creates its root directory, parents included, at start', async () => {
    const archive = new FileSystemOrderArchive(path.join(root, 'a', 'b', 'data'));
    await expect(archive.ready()).rejects.toThrow(`the archive directory ${path.join(root, 'a', 'b', 'data')} does not exist`);
    await archive.start();
    await archive.ready();
    expect(await readdir(path.join(root, 'a', 'b'))).toEqual(['data']);
  });

  it('is not ready when its root is a file, and start says why', async () => {
    const file = path.join(root, 'data');
    await writeFile(file, 'not a directory');
    const archive = new FileSystemOrderArchive(file);
    await expect(archive.ready()).rejects.toThrow(`the archive directory ${file} is not a directory`);
    await expect(archive.start()).rejects.toThrow(`the archive directory ${file} is not a directory (a file is in its place)`);
  });

  it('is not ready once the directory is gone', async () => {
    const archive = new FileSystemOrderArchive(path.join(root, 'data'));
    await archive.start();
    await rm(path.join(root, 'data'), { recursive: true });
    await expect(archive.ready()).rejects.toThrow('does not exist');
  });

  it('verifies by writing a probe and deleting it, leaving no object behind', async () => {
    const archive = new FileSystemOrderArchive(path.join(root, 'data'));
    await archive.start();
    await archive.verify();
    expect(await archive.list('')).toEqual([]);
  });

  it('is ready again when started after a close', async () => {
    const archive = new FileSystemOrderArchive(path.join(root, 'data'));
    await archive.start();
    await archive.close();
    await expect(archive.ready()).rejects.toThrow('is closed');
    await archive.start();
    await archive.ready();
  });
});

describe('InMemoryOrderArchive lifecycle', () => {
  it('keeps what it stored through a close, and is ready again once restarted', async () => {
    const archive = new InMemoryOrderArchive();
    await archive.start();
    await archive.put(KEY, Buffer.from('{"v":1}'), 'application/json');
    await archive.close();
    await expect(archive.ready()).rejects.toThrow('the in-memory archive is closed');
    expect((await archive.get(KEY))?.toString()).toBe('{"v":1}');
    await archive.start();
    await archive.ready();
  });
});

describe('InMemoryMessageBus lifecycle', () => {
  const publishOrders = (bus: InMemoryMessageBus, ids: readonly string[]): Promise<void> =>
    bus.publish(
      'orders',
      ids.map((id) => ({ key: id, value: wireBytes(aWireOrder({ id })) })),
    );

  it('stops the subscriptions made through it at close, waiting for what they hold up to the deadline', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await publishOrders(bus, ['o-1', 'o-2']);
    const held: Delivery[] = [];
    const subscription = await bus.subscribe({ topic: 'orders', groupId: 'g', handler: (delivery) => void held.push(delivery) });
    while (held.length < 2) await new Promise((resolve) => setImmediate(resolve));

    let closed = false;
    const closing = bus.close({ deadlineMs: 5_000 }).then(() => (closed = true));
    held[0]!.ack();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    held[1]!.ack();
    await closing;
    await expect(subscription.done).resolves.toBeUndefined();
    expect(bus.committed('g', 'orders')).toEqual([2]);
  });

  it('ends a subscription whose deliveries never settle once the deadline passes', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await publishOrders(bus, ['o-1']);
    const subscription = await bus.subscribe({ topic: 'orders', groupId: 'g', handler: () => undefined });
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    await bus.close({ deadlineMs: 50 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(subscription.done).resolves.toBeUndefined();
    expect(bus.committed('g', 'orders')).toEqual([0]);
  });

  it('keeps topics and committed positions through a close: a service restarted on it is redelivered what was not committed', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await publishOrders(bus, ['o-1', 'o-2', 'o-3']);
    const first = await bus.subscribe({
      topic: 'orders',
      groupId: 'g',
      // Acks only the first: o-2 and o-3 stay uncommitted.
      handler: (delivery) => {
        if (delivery.message.offset === '0') delivery.ack();
      },
    });
    while (bus.committed('g', 'orders')[0] === 0) await new Promise((resolve) => setImmediate(resolve));
    await bus.close({ deadlineMs: 0 });
    await first.done;
    await expect(bus.ready()).rejects.toThrow('the in-memory message bus is closed');

    await bus.start();
    await bus.ready();
    const redelivered: string[] = [];
    const second = await bus.subscribe({
      topic: 'orders',
      groupId: 'g',
      handler: (delivery) => (redelivered.push(delivery.message.offset), delivery.ack()),
    });
    await bus.caughtUp('g', 'orders', 2_000);
    expect(redelivered).toEqual(['1', '2']);
    await second.stop();
  });
});
