import fc from 'fast-check';
import { Partitioners, PartitionMetadata } from 'kafkajs';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { murmur2, partitionForKey } from '../../../src/adapters/memory/murmur2-partitioner';
import { Delivery, Subscription } from '../../../src/application/ports/message-bus.port';
import { describeMessageBusContract } from '../../contract/message-bus.contract';

let topics = 0;

describeMessageBusContract('InMemoryMessageBus', async () => {
  const bus = new InMemoryMessageBus();
  return {
    bus,
    createTopic: async (partitions) => {
      const topic = `contract-${++topics}`;
      bus.createTopic(topic, partitions);
      return topic;
    },
    committed: async (groupId, topic) => bus.committed(groupId, topic),
    loseSession: async (subscription) => {
      bus.expireSession(subscription);
      await new Promise((resolve) => setImmediate(resolve));
    },
    patienceMs: 2_000,
    cleanup: async () => undefined,
  };
});

/** crash() is the in-memory bus's own: a member killed with -9, for the at-least-once tests. */
const crashable = (subscription: Subscription): Subscription & { crash(): void } =>
  subscription as Subscription & { crash(): void };

const until = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
};

const numbered = (count: number) => Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(String(i)) }));

describe('InMemoryMessageBus', () => {
  it('redelivers the unacked messages of a crashed member to the next one, and ignores its late acks', async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('t', 1);
    await bus.publish('t', numbered(4));
    const held: Delivery[] = [];
    const crashed = crashable(
      await bus.subscribe({
        topic: 't',
        groupId: 'g',
        handler: (delivery) => {
          if (delivery.message.offset === '0') delivery.ack();
          else held.push(delivery);
        },
      }),
    );
    await until(() => held.length === 3);

    crashed.crash();
    held.forEach((delivery) => delivery.ack());
    await expect(crashed.done).resolves.toBeUndefined();
    expect(bus.committed('g', 't')).toEqual([1]);

    const offsets: string[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', handler: (delivery) => (offsets.push(delivery.message.offset), delivery.ack()) });
    await bus.caughtUp('g', 't', 2_000);
    expect(offsets).toEqual(['1', '2', '3']);
  });

  it('reassigns partitions when a member joins (range assignment, in join order); the new owner starts at the committed position', async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('t', 4);
    await bus.publish('t', numbered(40));
    const first: Delivery[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', maxInFlight: 100, handler: (delivery) => void first.push(delivery) });
    await until(() => first.length === 40);
    // Acked before the join: these positions are committed and stay done.
    first.filter((d) => d.message.partition === 3).forEach((delivery) => delivery.ack());
    const committedBeforeJoin = bus.committed('g', 't');
    const deliveredBeforeJoin = [...first];

    const second: Delivery[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', maxInFlight: 100, handler: (delivery) => void second.push(delivery) });
    await until(() => second.length === bus.endOffsets('t')[2]!);

    expect(new Set(second.map((d) => d.message.partition))).toEqual(new Set([2]));
    expect(second[0]!.message.offset).toBe('0');
    // The first member's deliveries from before the join belong to the old generation: acking them commits nothing.
    deliveredBeforeJoin.forEach((delivery) => delivery.ack());
    expect(bus.committed('g', 't')).toEqual(committedBeforeJoin);
    expect(committedBeforeJoin[3]).toBe(bus.endOffsets('t')[3]);
  });

  it('counts the deliveries a member still holds from before a rebalance against its maxInFlight', async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('t', 2);
    await bus.publish('t', numbered(20));
    const held: Delivery[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', maxInFlight: 3, handler: (delivery) => void held.push(delivery) });
    await until(() => held.length === 3);

    const taken: string[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', handler: (delivery) => (taken.push(delivery.message.offset), delivery.ack()) });
    await until(() => taken.length === bus.endOffsets('t')[1]);
    expect(held).toHaveLength(3);

    held[0]!.ack();
    await until(() => held.length === 4);
    expect(held[3]!.message.partition).toBe(0);
  });

  it('replays a partition after a nack from the first unacked offset, while other partitions keep flowing', async () => {
    const bus = new InMemoryMessageBus();
    bus.createTopic('t', 2);
    await bus.publish('t', [
      { key: '21', value: Buffer.from('p0-a') },
      { key: '21', value: Buffer.from('p0-b') },
      { key: 'lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', value: Buffer.from('p1-a') },
    ]);
    const seen: string[] = [];
    let failed = false;
    await bus.subscribe({
      topic: 't',
      groupId: 'g',
      handler: (delivery) => {
        const value = delivery.message.value!.toString();
        seen.push(value);
        if (value === 'p0-a' && !failed) {
          failed = true;
          delivery.nack(new Error('try again'));
        } else {
          delivery.ack();
        }
      },
    });
    await bus.caughtUp('g', 't', 2_000);
    expect(seen.filter((value) => value === 'p0-a')).toHaveLength(2);
    expect(seen.filter((value) => value === 'p1-a')).toHaveLength(1);
    expect(bus.committed('g', 't')).toEqual([2, 1]);
  });
});

describe('the murmur2 partitioner', () => {
  it("hashes Kafka's reference vectors (UtilsTest.testMurmur2) exactly", () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
      ['', 275646681],
    ];
    for (const [key, hash] of vectors) expect({ key, hash: murmur2(Buffer.from(key)) }).toEqual({ key, hash });
  });

  it("places any key where kafkajs's default (Java-compatible) partitioner does", () => {
    const kafkajsPartition = Partitioners.DefaultPartitioner();
    const metadata = (count: number): PartitionMetadata[] =>
      Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes))),
        fc.integer({ min: 1, max: 64 }),
        (key, partitions) =>
          partitionForKey(key, partitions) ===
          kafkajsPartition({ topic: 't', partitionMetadata: metadata(partitions), message: { key, value: null } }),
      ),
    );
  });
});

describe('InMemoryMessageBus replay backoff', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  /** Lets the bus's pumps (setImmediate) run to quiescence at the current fake time. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const keyFor = (partition: number): string => {
    for (let i = 0; ; i++) if (partitionForKey(`k-${i}`, 2) === partition) return `k-${i}`;
  };

  it('replays a partition whose handler nacks every time after growing waits, while the other partitions keep moving', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2, random: () => 0.5 });
    await bus.publish('t', [{ key: keyFor(0), value: Buffer.from('poison') }]);
    const poisonAt: number[] = [];
    const subscription = await bus.subscribe({
      topic: 't',
      groupId: 'g',
      handler: (delivery) => {
        if (delivery.message.partition === 0) {
          poisonAt.push(Date.now());
          delivery.nack(new Error('always fails'));
        } else {
          delivery.ack();
        }
      },
    });
    const start = Date.now();
    for (let elapsed = 0; elapsed < 10_000; elapsed += 10) {
      if (elapsed === 5_000) await bus.publish('t', Array.from({ length: 10 }, () => ({ key: keyFor(1), value: Buffer.from('fine') })));
      await settle();
      jest.advanceTimersByTime(10);
    }
    await settle();

    // 50 ms doubling to the 5 s cap (half of each, with this jitter, never under 50 ms): 10 deliveries in 10 s, not thousands.
    const gaps = poisonAt.slice(1).map((at, i) => at - poisonAt[i]!);
    expect(poisonAt[0]).toBe(start);
    expect(gaps).toEqual([50, 50, 100, 200, 400, 800, 1_600, 2_500, 2_500]);
    // Partition 1 was not held back by partition 0's waits.
    expect(bus.committed('g', 't')).toEqual([0, 10]);
    await subscription.stop({ deadlineMs: 0 });
  });

  it('starts the backoff over once the partition makes progress', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1, random: () => 0.5 });
    await bus.publish('t', [{ key: null, value: Buffer.from('a') }, { key: null, value: Buffer.from('b') }]);
    const deliveredAt: Array<[string, number]> = [];
    const failures = new Map([['a', 4], ['b', 2]]);
    const subscription = await bus.subscribe({
      topic: 't',
      groupId: 'g',
      maxInFlight: 1,
      handler: (delivery) => {
        const value = delivery.message.value!.toString();
        deliveredAt.push([value, Date.now()]);
        const left = failures.get(value)!;
        failures.set(value, left - 1);
        if (left > 0) delivery.nack(new Error('not yet'));
        else delivery.ack();
      },
    });
    for (let elapsed = 0; elapsed < 2_000; elapsed += 10) {
      await settle();
      jest.advanceTimersByTime(10);
    }
    await settle();
    const waitsBefore = (value: string): number[] => {
      const times = deliveredAt.filter(([v]) => v === value).map(([, at]) => at);
      return times.slice(1).map((at, i) => at - times[i]!);
    };
    expect(waitsBefore('a')).toEqual([50, 50, 100, 200]);
    // After a was acked (progress), b's first replay waits the base delay again, not 400 ms.
    expect(waitsBefore('b')).toEqual([50, 50]);
    expect(bus.committed('g', 't')).toEqual([2]);
    await subscription.stop({ deadlineMs: 0 });
  });
});
