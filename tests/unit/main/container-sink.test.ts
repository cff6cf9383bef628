import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { buildContainer } from '../../../src/main/container';
import { TOKENS } from '../../../src/main/di-tokens';
import { aWireOrder, wireBytes } from '../../support/builders';

/** The composition root on the in-memory bus and archive: which sink does ORDERFLOW_SINK wire? */
const runPipeline = async (overrides: Partial<AppConfig>, orders: number): Promise<string[]> => {
  const config: AppConfig = { ...EMBEDDED_DEFAULTS, archive: 'memory', logLevel: 'silent', ...overrides };
  const container = buildContainer(config);
  const bus = container.get(TOKENS.MessageBus) as InMemoryMessageBus;
  const archive = container.get(TOKENS.Archive) as InMemoryOrderArchive;
  const pipeline = container.get(TOKENS.ArchivePipeline);
  // Keyless: the bus deals them round-robin, so each of its 6 partitions gets the same number.
  await bus.publish(
    config.ordersTopic,
    Array.from({ length: orders }, (_, i) => ({ key: null, value: wireBytes(aWireOrder({ id: `o-${i}` })) })),
  );
  await pipeline.start();
  await bus.caughtUp(config.consumerGroup, config.ordersTopic);
  await pipeline.stop();
  return archive.list('');
};

describe('the sink the composition root wires', () => {
  it('writes one object per order by default', async () => {
    const keys = await runPipeline({}, 12);
    expect(keys).toHaveLength(12);
    expect(keys[0]).toMatch(/^orders\/dt=2026-11-22\/orderId=o-\d+\.json$/);
  });

  it('writes one NDJSON object per partition per batch under <prefix>-batched with ORDERFLOW_SINK=batched', async () => {
    const keys = await runPipeline({ sink: 'batched', batch: { maxMessages: 5, maxSpanMs: 60_000 }, archivePrefix: 'lake/orders' }, 60);
    expect(keys).toEqual(
      [0, 1, 2, 3, 4, 5].flatMap((p) => [0, 5].map((start) => `lake/orders-batched/dt=2026-11-22/orders.v1+${p}+${String(start).padStart(10, '0')}.ndjson`)),
    );
  });
});
