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
  /** [offset, when the bus handed it over, when it was acked] (epoch ms). */
  const timings: Array<[string, number, number]> = [];
  const metered = new MeteredMessageBus(inner, (message, deliveredAt) => {
    ackedOffsets.push(message.offset);
    timings.push([message.offset, deliveredAt, performance.timeOrigin + performance.now()]);
  });
  return { inner, metered, ackedOffsets, timings };
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

  it('tells each ack when its message (or its batch) was handed to the service, so a slow handler shows as its own part of the latency', async () => {
    const { metered, timings } = await aTopicOf(2);
    const subscribedAt = performance.timeOrigin + performance.now();
    await metered.subscribe({
      topic: 't',
      groupId: 'g',
      handler: (delivery) => void setTimeout(() => delivery.ack(), 30),
    });
    await until(() => metered.acked === 2);
    for (const [, deliveredAt, ackedAt] of timings) {
      expect(deliveredAt).toBeGreaterThanOrEqual(subscribedAt);
      expect(ackedAt - deliveredAt).toBeGreaterThanOrEqual(25);
    }

    const batched = await aTopicOf(3);
    await batched.metered.subscribe({ topic: 't', groupId: 'g', batchHandler: (batch) => void setTimeout(() => batch.ackThrough(2), 30) });
    await until(() => batched.metered.acked === 3);
    expect(new Set(batched.timings.map(([, deliveredAt]) => deliveredAt)).size).toBe(1);
    expect(batched.timings[0]![2] - batched.timings[0]![1]).toBeGreaterThanOrEqual(25);
  });

  it('refuses both handlers, as the buses do', async () => {
    const { metered } = await aTopicOf(0);
    expect(() => metered.subscribe({ topic: 't', groupId: 'g', handler: () => undefined, batchHandler: () => undefined })).toThrow(/not both/);
  });
});
