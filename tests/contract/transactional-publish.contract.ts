import { randomBytes } from 'node:crypto';
import { ConsumedThrough, Delivery, MessageBusPort, OutboundMessage, Subscription } from '../../src/application/ports/message-bus.port';

export interface TransactionalPublishFixture {
  readonly bus: MessageBusPort;
  /** A second instance on the same broker, as another process would open: its own producers, the same topics and groups. */
  anotherBus(): Promise<MessageBusPort>;
  /** A topic new to this test; `maxMessageBytes` as the topic's max.message.bytes. */
  createTopic(partitions: number, options?: { maxMessageBytes?: number }): Promise<string>;
  /** A name that no topic has. */
  missingTopic(): string;
  topicExists(topic: string): Promise<boolean>;
  /** The group's committed position (next offset to read) per partition; 0 where it has none. */
  committed(groupId: string, topic: string): Promise<number[]>;
  /** How long asynchronous effects may take: ms in memory, seconds on a broker. */
  readonly patienceMs: number;
  cleanup(): Promise<void>;
}

/**
 * The contract of MessageBusPort.publishTransactionally, in memory and on Kafka alike: a hand-off
 * publishes all of its outputs and moves its group's position together, or does neither.
 *
 * Nothing-was-seen is proved without sleeping: output topics of one partition, and after a failed
 * hand-off a successful one on the same topics; a reader sees a partition in offset order, so
 * once it has the later outputs, it would have had the failed ones already had they been visible.
 * Readers subscribe through the bus, as every consumer of the outputs does (read committed).
 */
export const describeTransactionalPublishContract = (name: string, makeFixture: () => Promise<TransactionalPublishFixture>): void => {
  describe(`${name} honours the publishTransactionally contract`, () => {
    let fixture: TransactionalPublishFixture;
    let subscriptions: Subscription[];

    beforeEach(async () => {
      fixture = await makeFixture();
      subscriptions = [];
    });

    afterEach(async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.stop({ deadlineMs: 0 })));
      await fixture.cleanup();
    });

    const eventually = async (what: string, check: () => boolean | Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + fixture.patienceMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`Gave up after ${fixture.patienceMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    /** What a read-committed subscriber of its own group receives from the topic, values as text. */
    const reader = async (topic: string): Promise<string[]> => {
      const values: string[] = [];
      const subscription = await fixture.bus.subscribe({
        topic,
        groupId: `${topic}.reader`,
        handler: (delivery) => {
          values.push(delivery.message.value?.toString() ?? '');
          delivery.ack();
        },
      });
      subscriptions.push(subscription);
      return values;
    };

    /** An input topic of one partition with `count` messages, and a member of `groupId` holding them all, unacked. */
    const inputsHeld = async (count: number) => {
      const topic = await fixture.createTopic(1);
      await fixture.bus.publish(topic, Array.from({ length: count }, (_, i) => text(`in-${i}`)));
      const groupId = `${topic}.stage`;
      const held: Delivery[] = [];
      const subscription = await fixture.bus.subscribe({ topic, groupId, handler: (delivery) => void held.push(delivery) });
      subscriptions.push(subscription);
      await eventually(`${count} input(s) delivered`, () => held.length === count);
      const through = (nextOffset: number): ConsumedThrough => ({
        groupId,
        topic,
        partition: 0,
        nextOffset: String(nextOffset),
        generation: held[0]!.generation,
      });
      return { topic, groupId, held, subscription, through };
    };

    it('makes every output visible and moves the group position past the inputs, without any ack', async () => {
      const input = await inputsHeld(3);
      const [orders, audits] = [await fixture.createTopic(2), await fixture.createTopic(2)];
      const [seenOrders, seenAudits] = [await reader(orders), await reader(audits)];

      await fixture.bus.publishTransactionally(input.through(3), [
        { topic: orders, messages: [keyed('o-1', 'order-1'), keyed('o-2', 'order-2')] },
        { topic: audits, messages: [text('audit-1')] },
      ]);

      await eventually('both topics', () => seenOrders.length === 2 && seenAudits.length === 1);
      expect([...seenOrders].sort()).toEqual(['order-1', 'order-2']);
      expect(seenAudits).toEqual(['audit-1']);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([3]);
    });

    it('commits only the position when a hand-off has no outputs (inputs that yield nothing)', async () => {
      const input = await inputsHeld(2);

      await fixture.bus.publishTransactionally(input.through(2), []);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([2]);
    });

    it('publishes nothing on any topic and leaves the position when one record is too large for its topic', async () => {
      const input = await inputsHeld(2);
      const orders = await fixture.createTopic(1);
      const audits = await fixture.createTopic(1, { maxMessageBytes: 1024 });
      const [seenOrders, seenAudits] = [await reader(orders), await reader(audits)];

      await expect(
        fixture.bus.publishTransactionally(input.through(1), [
          { topic: orders, messages: [text('doomed-order')] },
          // Random bytes: compression must not shrink the record below the limit.
          { topic: audits, messages: [text('doomed-audit'), { key: null, value: randomBytes(4096) }] },
        ]),
      ).rejects.toThrow();
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([0]);

      // The same hand-off again, as its replay would be, without the oversized record.
      await fixture.bus.publishTransactionally(input.through(1), [
        { topic: orders, messages: [text('order')] },
        { topic: audits, messages: [text('audit')] },
      ]);
      await eventually('the outputs of the second hand-off', () => seenOrders.length >= 1 && seenAudits.length >= 1);
      expect(seenOrders).toEqual(['order']);
      expect(seenAudits).toEqual(['audit']);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([1]);
    });

    it('fails on an output topic that does not exist, creating none and publishing nothing on the others', async () => {
      const input = await inputsHeld(1);
      const orders = await fixture.createTopic(1);
      const missing = fixture.missingTopic();
      const seenOrders = await reader(orders);

      await expect(
        fixture.bus.publishTransactionally(input.through(1), [
          { topic: orders, messages: [text('doomed-order')] },
          { topic: missing, messages: [text('nowhere')] },
        ]),
      ).rejects.toThrow(missing);
      expect(await fixture.topicExists(missing)).toBe(false);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([0]);

      await fixture.bus.publishTransactionally(input.through(1), [{ topic: orders, messages: [text('order')] }]);
      await eventually('the second hand-off', () => seenOrders.length >= 1);
      expect(seenOrders).toEqual(['order']);
    });

    it('lets a new member of the group resume right after nextOffset, though the inputs were never acked', async () => {
      const input = await inputsHeld(5);
      const outputs = await fixture.createTopic(1);

      await fixture.bus.publishTransactionally(input.through(3), [{ topic: outputs, messages: [text('out-0..2')] }]);
      // The member dies before it acks: only the hand-off moved the position.
      await input.subscription.stop({ deadlineMs: 0 });

      const resumed: Delivery[] = [];
      subscriptions.push(await fixture.bus.subscribe({ topic: input.topic, groupId: input.groupId, handler: (delivery) => void resumed.push(delivery) }));
      await eventually('the rest of the inputs', () => resumed.length === 2);
      expect(resumed.map(({ message }) => [message.offset, message.value?.toString()])).toEqual([
        ['3', 'in-3'],
        ['4', 'in-4'],
      ]);
    });

    it("never has its position set back by the subscription's own commit of an earlier one", async () => {
      const input = await inputsHeld(4);
      const outputs = await fixture.createTopic(1);

      await fixture.bus.publishTransactionally(input.through(3), [{ topic: outputs, messages: [text('out-0..2')] }]);
      // Acks trail hand-offs: the subscription's commit of 1, written after the transaction's 3,
      // would set the group back and have inputs 1 and 2 handed off twice after a restart.
      input.held[0]!.ack();
      await input.subscription.stop({ deadlineMs: 0 });
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([3]);

      const resumed: Delivery[] = [];
      subscriptions.push(await fixture.bus.subscribe({ topic: input.topic, groupId: input.groupId, handler: (delivery) => void resumed.push(delivery) }));
      await eventually('the last input', () => resumed.length === 1);
      expect(resumed[0]!.message.offset).toBe('3');
    });

    it('leaves the position to the hand-offs once it hands a partition off: the subscription\'s commit of a later position does not move it either', async () => {
      const input = await inputsHeld(4);
      const outputs = await fixture.createTopic(1);

      await fixture.bus.publishTransactionally(input.through(1), [{ topic: outputs, messages: [text('out-0')] }]);
      // The subscription's position is its first unacked offset, which can lie past the last
      // hand-off (on Kafka, past a transaction marker) while the next hand-off is under way; a
      // commit of it written after that hand-off's offsets would set the group back. So none is made.
      for (const delivery of input.held.slice(0, 3)) delivery.ack();
      await input.subscription.stop({ deadlineMs: 0 });
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([1]);

      const resumed: Delivery[] = [];
      subscriptions.push(await fixture.bus.subscribe({ topic: input.topic, groupId: input.groupId, handler: (delivery) => void resumed.push(delivery) }));
      await eventually('the inputs after the hand-off', () => resumed.length === 3);
      expect(resumed.map(({ message }) => message.offset)).toEqual(['1', '2', '3']);
    });

    it('fences the first instance once a second hands off the same partition: its next hand-off fails and is never seen', async () => {
      const input = await inputsHeld(3);
      const outputs = await fixture.createTopic(1);
      const seen = await reader(outputs);
      const zombie = fixture.bus;
      const successor = await fixture.anotherBus();

      await zombie.publishTransactionally(input.through(1), [{ topic: outputs, messages: [text('zombie-1')] }]);
      await successor.publishTransactionally(input.through(2), [{ topic: outputs, messages: [text('successor-2')] }]);
      await expect(zombie.publishTransactionally(input.through(3), [{ topic: outputs, messages: [text('zombie-3')] }])).rejects.toThrow();
      await successor.publishTransactionally(input.through(3), [{ topic: outputs, messages: [text('successor-3')] }]);

      await eventually('the successor\'s last output', () => seen.includes('successor-3'));
      expect(seen).toEqual(['zombie-1', 'successor-2', 'successor-3']);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([3]);
    });

    it('publishes nothing again when a new instance hands off inputs the group has committed past already', async () => {
      const input = await inputsHeld(3);
      const outputs = await fixture.createTopic(1);
      const seen = await reader(outputs);
      const successor = await fixture.anotherBus();

      await fixture.bus.publishTransactionally(input.through(2), [{ topic: outputs, messages: [text('first-owner')] }]);
      // A new owner that read the position before the first one's commit landed hands off the same inputs.
      await successor.publishTransactionally(input.through(2), [{ topic: outputs, messages: [text('duplicate')] }]);
      await successor.publishTransactionally(input.through(3), [{ topic: outputs, messages: [text('next')] }]);

      await eventually('the next output', () => seen.includes('next'));
      expect(seen).toEqual(['first-owner', 'next']);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([3]);
    });

    it('refuses a malformed position, naming what is wrong, and hands off nothing', async () => {
      const input = await inputsHeld(1);
      const outputs = await fixture.createTopic(1);
      const out = [{ topic: outputs, messages: [text('never')] }];

      await expect(fixture.bus.publishTransactionally({ ...input.through(1), nextOffset: '1.5' }, out)).rejects.toThrow(/nextOffset .*"1\.5"/);
      await expect(fixture.bus.publishTransactionally({ ...input.through(1), partition: -1 }, out)).rejects.toThrow(/partition .*-1/);
      await expect(fixture.bus.publishTransactionally({ ...input.through(1), groupId: '' }, out)).rejects.toThrow(/groupId/);
      expect(await fixture.committed(input.groupId, input.topic)).toEqual([0]);
    });
  });
};

const text = (value: string): OutboundMessage => ({ key: null, value: Buffer.from(value) });
const keyed = (key: string, value: string): OutboundMessage => ({ key, value: Buffer.from(value) });
