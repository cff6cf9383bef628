import {
  BatchHandler,
  Delivery,
  DeliveryBatch,
  DeliveryHandler,
  InboundMessage,
  MessageBusPort,
  Subscription,
  SubscriptionOptions,
  textHeader,
} from '../../src/application/ports/message-bus.port';

export interface MessageBusFixture {
  readonly bus: MessageBusPort;
  /** A topic new to this test, with this many partitions. */
  createTopic(partitions: number): Promise<string>;
  /** The group's committed position (next offset to read) per partition; 0 where it has none. */
  committed(groupId: string, topic: string): Promise<number[]>;
  /**
   * Makes the member lose its session as a process frozen past its session timeout would: the
   * group drops it without telling it, then it resumes and finds out. Resolves once it has resumed.
   */
  loseSession(subscription: Subscription): Promise<void>;
  /** How long asynchronous effects (deliveries, commits, rebalances) may take: ms in memory, seconds on a broker. */
  readonly patienceMs: number;
  cleanup(): Promise<void>;
}

/**
 * Partitions that Kafka's default partitioner (murmur2, as the Java client) gives these keys in a
 * four-partition topic; the hashes are the reference vectors of Kafka's own UtilsTest.testMurmur2.
 */
const KAFKA_PLACEMENT_OF_4: ReadonlyArray<readonly [key: string, partition: number]> = [
  ['21', 0], // murmur2 -973932308
  ['foobar', 2], // murmur2 -790332482
  ['a-little-bit-longer-string', 3], // murmur2 -1486304829
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 1], // murmur2 -58897971
  ['abc', 3], // murmur2 479470107
];

/**
 * The contract every MessageBusPort adapter passes, in memory and on Kafka alike. It pins what the
 * use cases rely on for at-least-once delivery: keyed order, explicit acks, commits only past
 * contiguous acked runs, redelivery after nack, stop, restart and rebalance, bounded in-flight work.
 * Waits poll with a deadline (the fixture's patience) rather than sleep, so the suite is as fast
 * as the bus and still tolerant of a broker's timing.
 */
export const describeMessageBusContract = (name: string, makeFixture: () => Promise<MessageBusFixture>): void => {
  describe(`${name} honours the MessageBus contract`, () => {
    let fixture: MessageBusFixture;
    let subscriptions: Subscription[];

    beforeEach(async () => {
      fixture = await makeFixture();
      subscriptions = [];
    });

    afterEach(async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.stop({ deadlineMs: 0 })));
      await fixture.cleanup();
    });

    const subscribe = async (options: Omit<SubscriptionOptions, 'handler'>, inbox: Inbox): Promise<Subscription> => {
      const subscription = await fixture.bus.subscribe({ ...options, handler: inbox.handler });
      subscriptions.push(subscription);
      return subscription;
    };

    const subscribeBatches = async (options: Omit<SubscriptionOptions, 'handler' | 'batchHandler'>, inbox: BatchInbox): Promise<Subscription> => {
      const subscription = await fixture.bus.subscribe({ ...options, batchHandler: inbox.handler });
      subscriptions.push(subscription);
      return subscription;
    };

    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

    const eventually = async (what: string, check: () => boolean | Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + fixture.patienceMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`Gave up after ${fixture.patienceMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    const committedReaches = (groupId: string, topic: string, expected: number[]): Promise<void> =>
      eventually(`committed positions ${JSON.stringify(expected)}`, async () => sameArray(await fixture.committed(groupId, topic), expected));

    const publishNumbered = (topic: string, count: number, key: (i: number) => string | null = () => null): Promise<void> =>
      fixture.bus.publish(
        topic,
        Array.from({ length: count }, (_, i) => ({ key: key(i), value: Buffer.from(`message-${i}`) })),
      );

    it('delivers key, value, headers and timestamp as published', async () => {
      const topic = await fixture.createTopic(2);
      const before = Date.now();
      await fixture.bus.publish(topic, [
        {
          key: 'o-1001',
          value: Buffer.from('{"id":"o-1001","total":149.99}'),
          headers: [textHeader('content-type', 'application/json'), textHeader('trace-id', 't-1')],
          timestamp: 1_795_000_000_000,
        },
        { key: Buffer.from([0x00, 0xff, 0x10]), value: Buffer.from([1, 2, 3]) },
        { key: null, value: Buffer.alloc(0) },
      ]);
      const after = Date.now();
      const inbox = new Inbox();
      await subscribe({ topic, groupId: `${topic}.g` }, inbox);
      await eventually('three deliveries', () => inbox.received.length === 3);

      const byValue = (value: Buffer) => inbox.received.map((d) => d.message).find((m) => m.value?.equals(value));
      expect(byValue(Buffer.from('{"id":"o-1001","total":149.99}'))).toMatchObject({
        topic,
        key: Buffer.from('o-1001'),
        headers: [textHeader('content-type', 'application/json'), textHeader('trace-id', 't-1')],
        timestamp: 1_795_000_000_000,
      });
      const binary = byValue(Buffer.from([1, 2, 3]))!;
      expect(binary.key).toEqual(Buffer.from([0x00, 0xff, 0x10]));
      expect(binary.headers).toEqual([]);
      expect(binary.timestamp).toBeGreaterThanOrEqual(before);
      expect(binary.timestamp).toBeLessThanOrEqual(after);
      const unkeyed = byValue(Buffer.alloc(0))!;
      expect(unkeyed.key).toBeNull();
      for (const { message } of inbox.received) {
        expect(typeof message.offset).toBe('string');
        expect([0, 1]).toContain(message.partition);
      }
    });

    it('carries header values byte for byte, and every header of a repeated name in order', async () => {
      const topic = await fixture.createTopic(1);
      const headers = [
        { key: 'binary', value: Buffer.from([0xff, 0x00, 0xfe]) },
        textHeader('tag', 'a'),
        textHeader('tag', 'b'),
        { key: 'empty', value: Buffer.alloc(0) },
      ];
      await fixture.bus.publish(topic, [{ key: 'k', value: Buffer.from('v'), headers }]);
      const inbox = new Inbox();
      await subscribe({ topic, groupId: `${topic}.g` }, inbox);
      await eventually('the message', () => inbox.received.length === 1);
      expect(inbox.received[0]!.message.headers).toEqual(headers);
    });

    it('publishes a copy of the bytes: the caller may reuse its buffers as soon as publish returns', async () => {
      const topic = await fixture.createTopic(1);
      const key = Buffer.from('o-1001');
      const value = Buffer.from('{"id":"o-1001"}');
      const published = fixture.bus.publish(topic, [{ key, value }]);
      key.fill(0);
      value.fill(0);
      await published;
      const inbox = new Inbox();
      await subscribe({ topic, groupId: `${topic}.g` }, inbox);
      await eventually('the message', () => inbox.received.length === 1);
      expect(inbox.received[0]!.message.key?.toString()).toBe('o-1001');
      expect(inbox.received[0]!.message.value?.toString()).toBe('{"id":"o-1001"}');
    });

    it("places keys as Kafka's default partitioner does, each key's messages in publish order", async () => {
      const topic = await fixture.createTopic(4);
      for (let round = 0; round < 3; round++) {
        await fixture.bus.publish(
          topic,
          KAFKA_PLACEMENT_OF_4.map(([key]) => ({ key, value: Buffer.from(String(round)) })),
        );
      }
      const inbox = new Inbox();
      await subscribe({ topic, groupId: `${topic}.g` }, inbox);
      await eventually('every message', () => inbox.received.length === KAFKA_PLACEMENT_OF_4.length * 3);

      for (const [key, partition] of KAFKA_PLACEMENT_OF_4) {
        const messages = inbox.received.map((d) => d.message).filter((m) => m.key?.toString() === key);
        expect({ key, partitions: [...new Set(messages.map((m) => m.partition))] }).toEqual({ key, partitions: [partition] });
        expect(messages.map((m) => m.value?.toString())).toEqual(['0', '1', '2']);
      }
    });

    it('commits acked positions, and a new member of the group resumes after them', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 5);
      const first = new Inbox();
      const subscription = await subscribe({ topic, groupId }, first);
      await committedReaches(groupId, topic, [5]);
      await subscription.stop();
      await expect(subscription.done).resolves.toBeUndefined();

      await publishNumbered(topic, 3);
      const second = new Inbox();
      await subscribe({ topic, groupId }, second);
      await eventually('the three new messages', () => second.received.length >= 3);
      expect(second.offsets()).toEqual([5, 6, 7]);
    });

    it('redelivers unacked messages to the next member after a stop', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 4);
      const first = new Inbox((delivery) => {
        if (Number(delivery.message.offset) < 2) delivery.ack();
      });
      const subscription = await subscribe({ topic, groupId }, first);
      await eventually('four deliveries', () => first.received.length === 4);
      await subscription.stop({ deadlineMs: 0 });
      expect(await fixture.committed(groupId, topic)).toEqual([2]);

      const second = new Inbox();
      await subscribe({ topic, groupId }, second);
      await eventually('the redelivery', () => second.received.length >= 2);
      expect(second.offsets()).toEqual([2, 3]);
      await committedReaches(groupId, topic, [4]);
    });

    it('commits what in-flight messages ack while a stop waits for them', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 3);
      const inbox = new Inbox(() => undefined);
      const subscription = await subscribe({ topic, groupId }, inbox);
      await eventually('three deliveries in flight', () => inbox.received.length === 3);
      const stopped = subscription.stop({ deadlineMs: fixture.patienceMs });
      setTimeout(() => inbox.received.forEach((delivery) => delivery.ack()), 20);
      await stopped;
      expect(await fixture.committed(groupId, topic)).toEqual([3]);
    });

    it('redelivers a nacked message and what follows it, never what was acked before it', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 5);
      let nacked = false;
      const inbox = new Inbox((delivery) => {
        if (delivery.message.offset === '2' && !nacked) {
          nacked = true;
          delivery.nack(new Error('archive unavailable'));
        } else {
          delivery.ack();
        }
      });
      await subscribe({ topic, groupId }, inbox);
      await committedReaches(groupId, topic, [5]);

      const offsets = inbox.offsets();
      const afterNack = offsets.slice(offsets.indexOf(2) + 1);
      expect(afterNack[0]).toBe(2);
      expect(Math.min(...afterNack)).toBe(2);
      expect(new Set(offsets)).toEqual(new Set([0, 1, 2, 3, 4]));
      expect(offsets.filter((offset) => offset < 2)).toEqual([0, 1]);
    });

    it('keeps the committed position at a nacked message while the nine others in flight are acked', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 10);
      const inbox = new Inbox(() => undefined);
      const subscription = await subscribe({ topic, groupId, maxInFlight: 10 }, inbox);
      await eventually('ten messages in flight', () => inbox.received.length === 10);

      const [first, second, third, ...rest] = inbox.received;
      first!.ack();
      second!.ack();
      rest.forEach((delivery) => delivery.ack());
      third!.nack(new Error('archive unavailable'));
      await eventually('the redelivery of offset 2', () => inbox.received.length > 10);
      expect(inbox.received[10]!.message.offset).toBe('2');
      inbox.received.slice(11).forEach((delivery) => delivery.ack());

      await subscription.stop({ deadlineMs: 0 });
      expect(await fixture.committed(groupId, topic)).toEqual([2]);
    });

    it('never has more unacked deliveries than maxInFlight', async () => {
      const topic = await fixture.createTopic(2);
      await publishNumbered(topic, 30, (i) => `key-${i}`);
      let current = 0;
      let highest = 0;
      const inbox = new Inbox((delivery) => {
        highest = Math.max(highest, ++current);
        setTimeout(() => {
          current--;
          delivery.ack();
        }, 2);
      });
      await subscribe({ topic, groupId: `${topic}.g`, maxInFlight: 3 }, inbox);
      await eventually('every message', () => inbox.received.length === 30);
      expect(highest).toBe(3);
    });

    it('splits the partitions between two members of a group, which together see every message once', async () => {
      const topic = await fixture.createTopic(4);
      const groupId = `${topic}.g`;
      const first = new Inbox();
      const second = new Inbox();
      await subscribe({ topic, groupId }, first);
      await subscribe({ topic, groupId }, second);
      await publishNumbered(topic, 40, (i) => `key-${i}`);
      await eventually('every message', () => first.received.length + second.received.length >= 40);

      const seen = [...first.received, ...second.received].map(({ message }) => `${message.partition}:${message.offset}`);
      expect(new Set(seen).size).toBe(40);
      expect(seen).toHaveLength(40);
      const partitionsOf = (inbox: Inbox) => new Set(inbox.received.map((d) => d.message.partition));
      expect(partitionsOf(first).size).toBeGreaterThan(0);
      expect(partitionsOf(second).size).toBeGreaterThan(0);
      expect([...partitionsOf(first)].filter((p) => partitionsOf(second).has(p))).toEqual([]);
    });

    it('tells a member its partitions are being revoked before a rebalance, while what it acks then is still committed', async () => {
      const topic = await fixture.createTopic(2);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 6, (i) => `key-${i}`);
      // The first member holds everything it gets, and acks it only when told its partitions go.
      const held = new Inbox(() => undefined);
      let revocations = 0;
      await fixture.bus
        .subscribe({
          topic,
          groupId,
          handler: held.handler,
          onPartitionsRevoked: () => {
            revocations++;
            for (const delivery of held.received.splice(0)) delivery.ack();
          },
        })
        .then((subscription) => subscriptions.push(subscription));
      await eventually('the six messages to be held', () => held.received.length === 6);
      expect(revocations).toBe(0);

      await subscribe({ topic, groupId }, new Inbox());
      await eventually('the revocation', () => revocations > 0);
      expect(revocations).toBe(1);
      // Acked during the revocation, so committed: nothing is handed to the next owner again.
      await eventually('all six committed', async () => (await fixture.committed(groupId, topic)).reduce((a, b) => a + b, 0) === 6);
    });

    it('tells a member that lost its session that its partitions were revoked, before anything of its next, later generation', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 3);
      const events: string[] = [];
      const held = new Inbox((delivery) => void events.push(`delivered ${delivery.message.offset} in ${delivery.generation}`));
      const subscription = await fixture.bus.subscribe({
        topic,
        groupId,
        handler: held.handler,
        onPartitionsRevoked: () => events.push('revoked'),
        onPartitionsAssigned: (partitions, generation) => events.push(`assigned ${partitions.join()} in ${generation}`),
      });
      subscriptions.push(subscription);
      await eventually('three messages held', () => held.received.length === 3);
      const before = held.received[0]!.generation;
      expect(held.received.map((delivery) => delivery.generation)).toEqual([before, before, before]);
      expect(events).toEqual([`assigned 0 in ${before}`, ...[0, 1, 2].map((offset) => `delivered ${offset} in ${before}`)]);

      await fixture.loseSession(subscription);
      await eventually('the redelivery in the next generation', () => held.received.some((delivery) => delivery.generation > before));
      const after = held.received.find((delivery) => delivery.generation > before)!.generation;
      await eventually('all three again', () => held.received.filter((delivery) => delivery.generation === after).length === 3);

      // Revoked once, and before the new generation's assignment and deliveries; nothing in between mixes generations.
      const revoked = events.indexOf('revoked');
      expect(events.filter((event) => event === 'revoked')).toHaveLength(1);
      expect(events.slice(0, revoked).every((event) => !event.endsWith(` in ${after}`))).toBe(true);
      expect(events.slice(revoked + 1)).toEqual([`assigned 0 in ${after}`, ...[0, 1, 2].map((offset) => `delivered ${offset} in ${after}`)]);

      // The old generation's acks commit nothing; the new one's do.
      held.received.filter((delivery) => delivery.generation === before).forEach((delivery) => delivery.ack());
      await subscription.stop({ deadlineMs: 0 });
      expect(await fixture.committed(groupId, topic)).toEqual([0]);
    });

    it('never has more unsettled key and value bytes than maxInFlightBytes, and delivers a larger message alone', async () => {
      const topic = await fixture.createTopic(1);
      const sizes = [40, 40, 40, 250, 40, 40];
      await fixture.bus.publish(
        topic,
        sizes.map((size, i) => ({ key: null, value: Buffer.alloc(size, i) })),
      );
      const inbox = new Inbox(() => undefined);
      await subscribe({ topic, groupId: `${topic}.g`, maxInFlightBytes: 100 }, inbox);
      const unsettled: Delivery[] = [];
      const ackAll = (): void => unsettled.splice(0).forEach((delivery) => delivery.ack());
      const observed: number[][] = [];
      for (let seen = 0; seen < sizes.length; ) {
        await eventually('the next deliveries', () => inbox.received.length > seen);
        // Give the bus every chance to exceed the bound before looking.
        await new Promise((resolve) => setTimeout(resolve, fixture.patienceMs / 20));
        const fresh = inbox.received.slice(seen);
        seen = inbox.received.length;
        observed.push(fresh.map((delivery) => delivery.message.value!.length));
        unsettled.push(...fresh);
        ackAll();
      }
      expect(observed).toEqual([[40, 40], [40], [250], [40, 40]]);
    });

    it('sizes maxInFlight from the partitions assigned, and announces each assignment before its first delivery', async () => {
      const topic = await fixture.createTopic(3);
      await publishNumbered(topic, 30, (i) => `key-${i}`);
      const assignments: Array<{ partitions: readonly number[]; generation: number; deliveredBefore: number }> = [];
      const inbox = new Inbox(() => undefined);
      const subscription = await fixture.bus.subscribe({
        topic,
        groupId: `${topic}.g`,
        handler: inbox.handler,
        maxInFlight: (partitions) => 2 * partitions,
        onPartitionsAssigned: (partitions, generation) =>
          assignments.push({ partitions: [...partitions].sort(), generation, deliveredBefore: inbox.received.length }),
      });
      subscriptions.push(subscription);
      await eventually('six messages in flight', () => inbox.received.length === 6);
      await new Promise((resolve) => setTimeout(resolve, fixture.patienceMs / 20));
      expect(inbox.received).toHaveLength(6);
      expect(assignments).toEqual([{ partitions: [0, 1, 2], generation: expect.any(Number), deliveredBefore: 0 }]);
      expect(inbox.received.every((delivery) => delivery.generation === assignments[0]!.generation)).toBe(true);
    });

    it('treats a handler that throws, or rejects, as a nack', async () => {
      const topic = await fixture.createTopic(1);
      const groupId = `${topic}.g`;
      await publishNumbered(topic, 2);
      const failed = new Set<string>();
      const inbox = new Inbox((delivery) => {
        const { offset } = delivery.message;
        if (failed.has(offset)) return delivery.ack();
        failed.add(offset);
        if (offset === '0') throw new Error('synchronous failure');
        return Promise.reject(new Error('asynchronous failure'));
      });
      await subscribe({ topic, groupId }, inbox);
      await committedReaches(groupId, topic, [2]);
      expect(inbox.offsets().filter((offset) => offset === 0).length).toBeGreaterThanOrEqual(2);
      expect(inbox.offsets().filter((offset) => offset === 1).length).toBeGreaterThanOrEqual(2);
    });

    describe('with a batch handler', () => {
      it("hands over each partition's messages in offset order, in batches of one partition's run within maxInFlight", async () => {
        const topic = await fixture.createTopic(3);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 30, (i) => `key-${i}`);
        const inbox = new BatchInbox();
        await subscribeBatches({ topic, groupId, maxInFlight: 4 }, inbox);
        await eventually('every message', () => inbox.messages().length >= 30);

        for (const batch of inbox.received) {
          expect(batch.messages.length).toBeGreaterThan(0);
          expect(batch.messages.length).toBeLessThanOrEqual(4);
          expect(batch.messages.every((message) => message.topic === topic && message.partition === batch.partition)).toBe(true);
          expect(batch.topic).toBe(topic);
        }
        // One call per run, not per message.
        expect(Math.max(...inbox.received.map((batch) => batch.messages.length))).toBeGreaterThan(1);
        const ends = [0, 1, 2].map((partition) => {
          const offsets = inbox.messages().filter((message) => message.partition === partition).map((message) => Number(message.offset));
          expect({ partition, offsets }).toEqual({ partition, offsets: offsets.map((_, i) => i) });
          return offsets.length;
        });
        expect(ends.reduce((a, b) => a + b, 0)).toBe(30);
        await committedReaches(groupId, topic, ends);
      });

      it('commits only past contiguous acked runs, across batches too, and a restart resumes at the first unacked message', async () => {
        const topic = await fixture.createTopic(1);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 10);
        const first = new BatchInbox(() => undefined);
        const subscription = await subscribeBatches({ topic, groupId, maxInFlight: 5 }, first);
        await eventually('five messages held', () => first.messages().length === 5);

        // Part of a batch: 0 and 1 acked, 2 to 4 still held.
        first.ackThroughOffset(1);
        await committedReaches(groupId, topic, [2]);
        await eventually('the two that fit again', () => first.messages().length === 7);
        // A later batch acked whole: past the gap at 2, so nothing more may be committed.
        const later = first.received.filter((batch) => Number(batch.messages[0]!.offset) >= 5);
        expect(later.flatMap((batch) => batch.messages.map((message) => message.offset))).toEqual(['5', '6']);
        later.forEach(ackAll);
        await pause(fixture.patienceMs / 20);
        expect(await fixture.committed(groupId, topic)).toEqual([2]);
        await subscription.stop({ deadlineMs: 0 });
        expect(await fixture.committed(groupId, topic)).toEqual([2]);

        const second = new BatchInbox();
        await subscribeBatches({ topic, groupId }, second);
        await eventually('the redelivery', () => second.messages().length >= 8);
        expect(second.offsets()).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
        await committedReaches(groupId, topic, [10]);
      });

      it('replays from a nacked index once the messages before it settle: the nacked message and what follows, never what was acked', async () => {
        const topic = await fixture.createTopic(1);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 5);
        let nacked = false;
        const inbox = new BatchInbox((batch) => {
          const index = batch.messages.findIndex((message) => message.offset === '2');
          if (nacked || index < 0) return ackAll(batch);
          nacked = true;
          // The nack comes first; what precedes it in the batch is acked later than the first
          // replay backoff, and the replay must wait for that (or it would start at 0).
          batch.nack(index, new Error('archive unavailable'));
          if (index > 0) setTimeout(() => batch.ackThrough(index - 1), fixture.patienceMs / 10);
        });
        await subscribeBatches({ topic, groupId }, inbox);
        await committedReaches(groupId, topic, [5]);

        const offsets = inbox.offsets();
        const afterNack = offsets.slice(offsets.indexOf(4) + 1);
        expect(afterNack).toEqual([2, 3, 4]);
        expect(offsets.filter((offset) => offset < 2)).toEqual([0, 1]);
      });

      it('nacks the unacked rest of a batch whose handler throws or rejects', async () => {
        const topic = await fixture.createTopic(1);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 6);
        let threw = false;
        let rejected = false;
        const inbox = new BatchInbox((batch) => {
          const offsets = batch.messages.map((message) => message.offset);
          if (!threw && offsets.includes('1')) {
            threw = true;
            batch.ackThrough(offsets.indexOf('1'));
            throw new Error('synchronous failure');
          }
          if (!rejected && offsets.includes('3')) {
            rejected = true;
            batch.ackThrough(offsets.indexOf('3'));
            return Promise.reject(new Error('asynchronous failure'));
          }
          return ackAll(batch);
        });
        await subscribeBatches({ topic, groupId }, inbox);
        await committedReaches(groupId, topic, [6]);
        const deliveries = [0, 1, 2, 3, 4, 5].map((offset) => inbox.offsets().filter((delivered) => delivered === offset).length);
        expect(deliveries).toEqual([1, 1, 2, 2, 3, 3]);
      });

      it('holds what a handler resolves without settling: nothing is committed, and maxInFlight stops deliveries', async () => {
        const topic = await fixture.createTopic(2);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 30, (i) => `key-${i}`);
        const inbox = new BatchInbox(() => undefined);
        await subscribeBatches({ topic, groupId, maxInFlight: 5 }, inbox);
        const observed: number[] = [];
        for (let seen = 0; inbox.messages().length < 30 || seen < inbox.received.length; ) {
          await eventually('the next batches', () => inbox.received.length > seen);
          // Give the bus every chance to exceed the bound before looking.
          await pause(fixture.patienceMs / 20);
          const fresh = inbox.received.slice(seen);
          seen = inbox.received.length;
          observed.push(fresh.reduce((sum, batch) => sum + batch.messages.length, 0));
          if (observed.length === 1) expect(await fixture.committed(groupId, topic)).toEqual([0, 0]);
          fresh.forEach(ackAll);
        }
        expect(observed[0]).toBe(5);
        expect(Math.max(...observed)).toBe(5);
        expect(observed.reduce((a, b) => a + b, 0)).toBe(30);
      });

      it('never has more unsettled key and value bytes than maxInFlightBytes, splitting a run there, and delivers a larger message alone', async () => {
        const topic = await fixture.createTopic(1);
        const sizes = [40, 40, 40, 250, 40, 40];
        await fixture.bus.publish(
          topic,
          sizes.map((size, i) => ({ key: null, value: Buffer.alloc(size, i) })),
        );
        const inbox = new BatchInbox(() => undefined);
        await subscribeBatches({ topic, groupId: `${topic}.g`, maxInFlightBytes: 100 }, inbox);
        const observed: number[][][] = [];
        for (let seen = 0; inbox.messages().length < sizes.length || seen < inbox.received.length; ) {
          await eventually('the next batches', () => inbox.received.length > seen);
          await pause(fixture.patienceMs / 20);
          const fresh = inbox.received.slice(seen);
          seen = inbox.received.length;
          observed.push(fresh.map((batch) => batch.messages.map((message) => message.value!.length)));
          fresh.forEach(ackAll);
        }
        expect(observed).toEqual([[[40, 40]], [[40]], [[250]], [[40, 40]]]);
      });

      it('revokes the partitions of a member that holds batches when another joins; what it acks then is committed, its next batches are of a newer generation', async () => {
        const topic = await fixture.createTopic(2);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 6, (i) => `key-${i}`);
        const held = new BatchInbox(() => undefined);
        let revocations = 0;
        await fixture.bus
          .subscribe({
            topic,
            groupId,
            batchHandler: held.handler,
            onPartitionsRevoked: () => {
              revocations++;
              held.received.forEach(ackAll);
            },
          })
          .then((subscription) => subscriptions.push(subscription));
        await eventually('the six messages to be held', () => held.messages().length === 6);
        const before = held.received[0]!.generation;
        expect(held.received.every((batch) => batch.generation === before)).toBe(true);
        expect(revocations).toBe(0);

        const other = new Inbox();
        await subscribe({ topic, groupId }, other);
        await eventually('the revocation', () => revocations > 0);
        expect(revocations).toBe(1);
        await eventually('all six committed', async () => (await fixture.committed(groupId, topic)).reduce((a, b) => a + b, 0) === 6);

        const heldBefore = held.received.length;
        await publishNumbered(topic, 20, (i) => `later-${i}`);
        await eventually('later messages for both members', () => held.received.length > heldBefore && other.received.length > 0);
        expect(held.received.slice(heldBefore).every((batch) => batch.generation > before)).toBe(true);
        // Committed before the partitions moved: nothing of the first six reaches anyone again.
        const seen = [...held.messages(), ...other.received.map((delivery) => delivery.message)].map((m) => `${m.partition}:${m.offset}`);
        expect(new Set(seen).size).toBe(seen.length);
      });

      it('counts a batch of an earlier generation in flight until settled, and settling it commits nothing', async () => {
        const topic = await fixture.createTopic(1);
        const groupId = `${topic}.g`;
        await publishNumbered(topic, 3);
        const events: string[] = [];
        const held = new BatchInbox((batch) => {
          for (const message of batch.messages) events.push(`delivered ${message.offset} in ${batch.generation}`);
        });
        const subscription = await fixture.bus.subscribe({
          topic,
          groupId,
          batchHandler: held.handler,
          maxInFlight: 3,
          onPartitionsRevoked: () => events.push('revoked'),
          onPartitionsAssigned: (partitions, generation) => events.push(`assigned ${partitions.join()} in ${generation}`),
        });
        subscriptions.push(subscription);
        await eventually('three messages held', () => held.messages().length === 3);
        const before = held.received[0]!.generation;
        expect(events).toEqual([`assigned 0 in ${before}`, ...[0, 1, 2].map((offset) => `delivered ${offset} in ${before}`)]);

        await fixture.loseSession(subscription);
        await eventually('the next assignment', () => events.some((event) => event.startsWith('assigned') && !event.endsWith(` in ${before}`)));
        // The old generation's three messages still fill maxInFlight: nothing of the new one yet.
        await pause(fixture.patienceMs / 20);
        expect(held.received.every((batch) => batch.generation === before)).toBe(true);
        const old = [...held.received];
        old.forEach(ackAll);
        await eventually('the redelivery in the next generation', () => held.messages().filter((message) => message.offset === '2').length === 2);
        const after = held.received[held.received.length - 1]!.generation;
        expect(after).toBeGreaterThan(before);

        const revoked = events.indexOf('revoked');
        expect(events.filter((event) => event === 'revoked')).toHaveLength(1);
        expect(events.slice(0, revoked).every((event) => !event.endsWith(` in ${after}`))).toBe(true);
        expect(events.slice(revoked + 1)).toEqual([`assigned 0 in ${after}`, ...[0, 1, 2].map((offset) => `delivered ${offset} in ${after}`)]);
        // Acked in the old generation: committed nothing; the new generation holds its batch.
        await subscription.stop({ deadlineMs: 0 });
        expect(await fixture.committed(groupId, topic)).toEqual([0]);
      });

      it('refuses a subscription with both a handler and a batch handler, or neither', async () => {
        const topic = await fixture.createTopic(1);
        const groupId = `${topic}.g`;
        const both = fixture.bus.subscribe({ topic, groupId, handler: () => undefined, batchHandler: () => undefined });
        await expect(both).rejects.toThrow(`Subscription of group ${groupId} to ${topic}: give exactly one of handler (per message) and batchHandler (per batch), not both`);
        await expect(fixture.bus.subscribe({ topic, groupId })).rejects.toThrow(/exactly one of handler .* and batchHandler .*neither was given/);
        // Neither joined the group: a member that does gets everything.
        await publishNumbered(topic, 2);
        const inbox = new BatchInbox();
        await subscribeBatches({ topic, groupId }, inbox);
        await committedReaches(groupId, topic, [2]);
        expect(inbox.offsets()).toEqual([0, 1]);
      });
    });
  });
};

/** Records every delivery, then lets the test's reaction (ack by default) handle it. */
class Inbox {
  readonly received: Delivery[] = [];
  readonly handler: DeliveryHandler;

  constructor(react: (delivery: Delivery) => void | Promise<void> = (delivery) => delivery.ack()) {
    this.handler = (delivery) => {
      this.received.push(delivery);
      return react(delivery);
    };
  }

  offsets(): number[] {
    return this.received.map((delivery) => Number(delivery.message.offset));
  }
}

/** Records every batch, then lets the test's reaction (ack through the last message by default) settle it. */
class BatchInbox {
  readonly received: DeliveryBatch[] = [];
  readonly handler: BatchHandler;

  constructor(react: (batch: DeliveryBatch) => void | Promise<void> = ackAll) {
    this.handler = (batch) => {
      this.received.push(batch);
      return react(batch);
    };
  }

  messages(): InboundMessage[] {
    return this.received.flatMap((batch) => batch.messages);
  }

  offsets(): number[] {
    return this.messages().map((message) => Number(message.offset));
  }

  /** Acks every message of the partition up to this offset, whichever batches hold them. */
  ackThroughOffset(offset: number, partition = 0): void {
    for (const batch of this.received) {
      if (batch.partition !== partition) continue;
      let last = batch.messages.length - 1;
      while (last >= 0 && Number(batch.messages[last]!.offset) > offset) last--;
      if (last >= 0) batch.ackThrough(last);
    }
  }
}

const ackAll = (batch: DeliveryBatch): void => batch.ackThrough(batch.messages.length - 1);

const sameArray = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
