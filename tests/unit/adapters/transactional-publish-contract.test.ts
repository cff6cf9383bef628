import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { Delivery } from '../../../src/application/ports/message-bus.port';
import { describeTransactionalPublishContract } from '../../contract/transactional-publish.contract';

let topics = 0;

describeTransactionalPublishContract('InMemoryMessageBus', async () => {
  const bus = new InMemoryMessageBus();
  return {
    bus,
    anotherBus: async () => bus.newClient(),
    createTopic: async (partitions, options) => {
      const topic = `tx-contract-${++topics}`;
      bus.createTopic(topic, partitions, options);
      return topic;
    },
    missingTopic: () => `tx-contract-missing-${++topics}`,
    topicExists: async (topic) => bus.hasTopic(topic),
    committed: async (groupId, topic) => bus.committed(groupId, topic),
    patienceMs: 2_000,
    cleanup: async () => undefined,
  };
});

describe('InMemoryMessageBus hand-offs', () => {
  const text = (value: string) => ({ key: null, value: Buffer.from(value) });

  it('fences a hand-off of deliveries from an earlier generation: nothing is published, the position stays', async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('in', 1);
    bus.createTopic('out', 1);
    await bus.publish('in', [text('a')]);
    const held: Delivery[] = [];
    const first = await bus.subscribe({ topic: 'in', groupId: 'g', handler: (delivery) => void held.push(delivery) });
    await until(() => held.length === 1);
    // A second member joins: the group moves to a new generation, the first member's delivery is stale.
    const second = await bus.subscribe({ topic: 'in', groupId: 'g', handler: () => undefined });

    const stale = { groupId: 'g', topic: 'in', partition: 0, nextOffset: '1', generation: held[0]!.generation };
    await expect(bus.publishTransactionally(stale, [{ topic: 'out', messages: [text('zombie')] }])).rejects.toThrow(
      /generation 1 is over \(the group is at 2\); nothing was published/,
    );
    expect(bus.records('out')).toEqual([]);
    expect(bus.committed('g', 'in')).toEqual([0]);
    await Promise.all([first.stop({ deadlineMs: 0 }), second.stop({ deadlineMs: 0 })]);
  });

  it('refuses an input partition that does not exist, and creates no topic', async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('in', 2);
    const consumed = { groupId: 'g', topic: 'in', partition: 2, nextOffset: '1', generation: 0 };
    await expect(bus.publishTransactionally(consumed, [])).rejects.toThrow('in has 2 partition(s), no partition 2');
    await expect(bus.publishTransactionally({ ...consumed, topic: 'nowhere' }, [])).rejects.toThrow('the input topic nowhere does not exist');
    expect(bus.hasTopic('nowhere')).toBe(false);
  });

  it("bounds plain publishes by a topic's maxMessageBytes too, publishing nothing of a publish with one record over it", async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('small', 1, { maxMessageBytes: 8 });
    await expect(bus.publish('small', [text('fits'), { key: 'key', value: Buffer.from('too long') }])).rejects.toThrow(
      "Message 1 to small has 11 bytes, over the topic's maxMessageBytes of 8",
    );
    expect(bus.records('small')).toEqual([]);
    expect(() => bus.createTopic('other', 1, { maxMessageBytes: 0 })).toThrow('maxMessageBytes must be a positive integer, got 0');
  });
});

const until = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
};
