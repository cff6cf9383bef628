import { Resources } from '../../../src/application/resources';
import { LifecycleSpy } from '../../support/lifecycle-spy';
import { LoggerSpy } from '../../support/logger-spy';

/** Three resources sharing one call log, in the order a container lists them. */
const threeResources = () => {
  const calls: string[] = [];
  const [archive, kafka, bus] = ['archive', 'kafka', 'message-bus'].map((name) => new LifecycleSpy(name, calls)) as [
    LifecycleSpy,
    LifecycleSpy,
    LifecycleSpy,
  ];
  const logger = new LoggerSpy();
  const resources = new Resources(
    [archive, kafka, bus].map((spy) => ({ name: spy.name, resource: spy })),
    logger,
  );
  return { resources, archive, kafka, bus, calls, logger };
};

describe('Resources', () => {
  it('starts in the order listed and closes in the reverse order', async () => {
    const { resources, calls } = threeResources();
    await resources.start();
    await resources.close();
    expect(calls).toEqual(['start archive', 'start kafka', 'start message-bus', 'close message-bus', 'close kafka', 'close archive']);
  });

  it('stops starting at the first failure, with that resource\'s own error', async () => {
    const { resources, kafka, calls } = threeResources();
    const refused = new Error('Kafka: connecting failed: no Kafka broker answered at 127.0.0.1:1');
    kafka.failStart = refused;
    await expect(resources.start()).rejects.toBe(refused);
    expect(calls).toEqual(['start archive', 'start kafka']);
  });

  it('closes every resource, started or not, even when one fails to close, and logs that one', async () => {
    const { resources, kafka, calls, logger } = threeResources();
    kafka.failClose = new Error('disconnect timed out');
    await expect(resources.close()).resolves.toBeUndefined();
    expect(calls).toEqual(['close message-bus', 'close kafka', 'close archive']);
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([
      { level: 'warn', message: 'Could not close a resource cleanly', fields: { resource: 'kafka', err: 'disconnect timed out' } },
    ]);
  });

  it('closes once: later and concurrent calls wait for the first', async () => {
    const { resources, calls } = threeResources();
    await Promise.all([resources.close(), resources.close()]);
    await resources.close();
    expect(calls.filter((call) => call.startsWith('close'))).toHaveLength(3);
  });

  it('is ready when every resource is, and otherwise rejects with the reason of one that is not', async () => {
    const { resources, bus } = threeResources();
    await expect(resources.ready()).resolves.toBeUndefined();
    bus.failReady = new Error('the Kafka message bus is closed');
    await expect(resources.ready()).rejects.toThrow('the Kafka message bus is closed');
  });

  it('offers one readiness check per resource, under its name, for /readyz', async () => {
    const { resources, archive } = threeResources();
    archive.failReady = new Error('the archive directory /data does not exist');
    const outcomes = await Promise.all(
      resources.readiness.map(async ({ name, check }) => [name, await check().then(() => 'ready', (e: Error) => e.message)]),
    );
    expect(outcomes).toEqual([
      ['archive', 'the archive directory /data does not exist'],
      ['kafka', 'ready'],
      ['message-bus', 'ready'],
    ]);
    expect(resources.names).toEqual(['archive', 'kafka', 'message-bus']);
  });

  it('refuses two resources under one name', () => {
    const spy = new LifecycleSpy('archive');
    expect(() => new Resources([{ name: 'archive', resource: spy }, { name: 'archive', resource: spy }], new LoggerSpy())).toThrow(
      'Resources: the name "archive" is given twice',
    );
  });
});
