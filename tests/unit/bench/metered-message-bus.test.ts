import { MeteredMessageBus } from '../../../bench/metered-message-bus';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { DeliveryBatch } from '../../../src/application/ports/message-bus.port';

const until = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};

const aTopicOf = async (count: number) => {
  const inner = new InMemoryMessageBus({ random: () => 0 });
  inner.createTopic('t', 1);
  await inner.publish('t', Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(String(i)) })));
  const ackedOffsets: string[] = [];
  const metered = new MeteredMessageBus(inner, (message) => ackedOffsets.push(message.offset));
  return { inner, metered, ackedOffsets };
};

describe('MeteredMessageBus (bench)', () => {
  it("meters a batch handler's acks as the bus settles them, passing acks and nacks through", async () => {
    const { inner, metered, ackedOffsets } = await aTopicOf(6);
    const batches: DeliveryBatch[] = [];
    await metered.subscribe({ topic: 't', groupId: 'g', batchHandler: (batch) => void batches.push(batch) });
    await until(() => batches.length === 1);
    expect(metered.firstDeliveryAt).toBeDefined();

    const [first] = batches;
    first!.ackThrough(2);
    first!.ackThrough(1);
    first!.nack(4, new Error('store down'));
    expect(metered.acked).toBe(3);
    // 4 and 5 are settled (nacked) already: this acks 3 only, for the bus and for the meter.
    first!.ackThrough(5);
    expect(metered.acked).toBe(4);
    await until(() => batches.length === 2);
    expect(batches[1]!.messages.map((message) => message.offset)).toEqual(['4', '5']);
    batches[1]!.ackThrough(1);

    expect(metered.acked).toBe(6);
    expect(ackedOffsets).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(metered.lastAckAt).toBeGreaterThanOrEqual(metered.firstDeliveryAt!);
    expect(inner.committed('g', 't')).toEqual([6]);
  });

  it('still meters a per-message handler', async () => {
    const { inner, metered, ackedOffsets } = await aTopicOf(3);
    await metered.subscribe({ topic: 't', groupId: 'g', handler: (delivery) => delivery.ack() });
    await until(() => metered.acked === 3);
    expect(ackedOffsets).toEqual(['0', '1', '2']);
    expect(inner.committed('g', 't')).toEqual([3]);
  });

  it('refuses both handlers, as the buses do', async () => {
    const { metered } = await aTopicOf(0);
    expect(() => metered.subscribe({ topic: 't', groupId: 'g', handler: () => undefined, batchHandler: () => undefined })).toThrow(/not both/);
  });
});
