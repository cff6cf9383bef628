import { DLQ_HEADERS, KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryMetrics } from '../../../src/adapters/memory/in-memory-metrics';
import { ConsumedThrough, headerText, InboundMessage, MessageBusPort, TopicMessages } from '../../../src/application/ports/message-bus.port';
import { EventStage, InputCodec, OutputEncoder, StageOrdering } from '../../../src/application/stages/stage';
import { stageGroupId, StageRunner } from '../../../src/application/stages/stage-runner';
import { rejection } from '../../../src/domain/rejection';
import { err, ok } from '../../../src/domain/result';
import { LoggerSpy } from '../../support/logger-spy';

const IN = 'numbers';
const EVEN = 'numbers.even';
const ODD = 'numbers.odd';
const GROUP = 'orderflow-parity';

/** Input: a decimal number as text; "x" is not a number (a dead letter). */
const numberCodec: InputCodec<number> = {
  decode: (message: InboundMessage) => {
    const text = message.value?.toString('utf8') ?? '';
    return /^\d+$/.test(text) ? ok(Number(text)) : err(rejection('MESSAGE.INVALID_JSON', 'decode', `Not a number: ${JSON.stringify(text)}`));
  },
};

const numberEncoder: OutputEncoder<number> = { encode: (n) => ({ key: String(n), value: Buffer.from(String(n)) }) };

/** A toy stage: numbers to the even or the odd topic; `handle` may be replaced per test. */
const aParityStage = (overrides: Partial<EventStage<number>> & { ordering?: StageOrdering } = {}): EventStage<number> => ({
  kind: 'event',
  name: 'parity',
  inputs: [{ topic: IN, codec: numberCodec }],
  outputs: { even: { topic: EVEN, encoder: numberEncoder }, odd: { topic: ODD, encoder: numberEncoder } },
  ordering: 'ordered',
  exactlyOnce: false,
  handle: (n) => ({ kind: 'emit', emissions: [{ output: n % 2 === 0 ? 'even' : 'odd', event: n }] }),
  ...overrides,
});

const harness = (bus: MessageBusPort & Pick<InMemoryMessageBus, 'records'>) => {
  const metrics = new InMemoryMetrics();
  const logger = new LoggerSpy();
  const runner = new StageRunner({
    bus,
    deadLetters: (topic) => new KafkaDeadLetterSink(bus, `${topic}.dlq`),
    metrics,
    logger,
    clock: { now: () => Date.now() },
  });
  const run = (stage: EventStage<number>, maxInFlight = 16) =>
    runner.run(stage, { groupId: () => GROUP, maxInFlight, backoff: { baseDelayMs: 1, maxDelayMs: 5 } });
  return { metrics, logger, run };
};

const numbers = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ key: String(from + i), value: Buffer.from(String(from + i)) }));

const values = (bus: InMemoryMessageBus, topic: string): number[] => bus.records(topic).map((r) => Number(r.value!.toString()));

const until = async (condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};

describe('the stage runner', () => {
  it('publishes every output to its declared topic and commits the inputs only after', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 3 });
    const { metrics, run } = harness(bus);
    await bus.publish(IN, numbers(0, 300));
    const running = await run(aParityStage());
    await bus.caughtUp(GROUP, IN);
    await running.stop();

    expect(values(bus, EVEN).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => 2 * i));
    expect(values(bus, ODD)).toHaveLength(150);
    expect(metrics.stages.get('parity')).toMatchObject({ consumed: 300, deadLettered: 0 });
    expect(metrics.stages.get('parity')!.emitted).toEqual(new Map([[EVEN, 150], [ODD, 150]]));
  });

  it("dead-letters a rejected input to <input>.dlq with the stage's name, and its partition keeps moving", async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const { metrics, run } = harness(bus);
    await bus.publish(IN, [...numbers(0, 2), { key: 'x', value: Buffer.from('x') }, ...numbers(2, 2)]);
    const running = await run(aParityStage());
    await bus.caughtUp(GROUP, IN);
    await running.stop();

    const [dead] = bus.records(`${IN}.dlq`);
    expect(dead!.value!.toString()).toBe('x');
    expect(headerText(dead!.headers, DLQ_HEADERS.stageName)).toBe('parity');
    expect(headerText(dead!.headers, DLQ_HEADERS.code)).toBe('MESSAGE.INVALID_JSON');
    expect([...values(bus, EVEN), ...values(bus, ODD)].sort()).toEqual([0, 1, 2, 3]);
    expect(bus.committed(GROUP, IN)).toEqual([5]);
    expect(metrics.stages.get('parity')!.deadLettered).toBe(1);
  });

  it('holds and retries a handler that throws (transient), never dead-letters it, and reports the outage', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const { metrics, logger, run } = harness(bus);
    let failuresLeft = 5;
    const stage = aParityStage({
      handle: async (n) => {
        if (failuresLeft-- > 0) throw new Error('gateway timed out');
        return { kind: 'emit', emissions: [{ output: n % 2 === 0 ? 'even' : 'odd', event: n }] };
      },
    });
    await bus.publish(IN, numbers(0, 20));
    const running = await run(stage);
    await bus.caughtUp(GROUP, IN);
    expect(running.failing()).toEqual([]);
    await running.stop();

    expect(values(bus, EVEN).length + values(bus, ODD).length).toBe(20);
    expect(bus.records(`${IN}.dlq`)).toEqual([]);
    expect(metrics.retried).toBeGreaterThanOrEqual(5);
    expect(logger.messages('warn')).toContain('Handling failed: holding its inputs, probing with backoff until one succeeds');
    expect(logger.messages('info')).toContain('Handling succeeds again');
  });

  it('leaves inputs unacked when stopped during an outage, and the next run handles them', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const first = harness(bus);
    const running = await first.run(
      aParityStage({
        handle: async () => {
          throw new Error('database unreachable');
        },
      }),
    );
    await bus.publish(IN, numbers(0, 5));
    await until(() => running.failing().includes('handle'), 'the outage to begin');
    await running.stop(1_000);
    expect(bus.committed(GROUP, IN)).toEqual([0]);
    expect(bus.records(EVEN)).toEqual([]);

    const second = await harness(bus).run(aParityStage());
    await bus.caughtUp(GROUP, IN);
    await second.stop();
    expect([...values(bus, EVEN), ...values(bus, ODD)].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("hands an ordered stage each partition's messages in offset order, even with a slow asynchronous handler", async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const seen = new Map<string, number[]>();
    const stage = aParityStage({
      handle: async (n, context) => {
        await new Promise((resolve) => setTimeout(resolve, n % 3));
        const key = `${context.partition}`;
        seen.set(key, [...(seen.get(key) ?? []), Number(context.offset)]);
        return { kind: 'emit', emissions: [] };
      },
    });
    await bus.publish(IN, numbers(0, 200));
    const running = await harness(bus).run(stage, 64);
    await bus.caughtUp(GROUP, IN);
    await running.stop();

    for (const offsets of seen.values()) expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect([...seen.values()].flat()).toHaveLength(200);
  });

  it("dead-letters an input whose outcome cannot be encoded, or names an undeclared output, rather than stalling", async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const throwing: OutputEncoder<number> = {
      encode: () => {
        throw new TypeError('cannot encode');
      },
    };
    const stage = aParityStage({
      outputs: { even: { topic: EVEN, encoder: throwing }, odd: { topic: ODD, encoder: numberEncoder } },
      handle: (n) => ({ kind: 'emit', emissions: [{ output: n === 3 ? 'nowhere' : n % 2 === 0 ? 'even' : 'odd', event: n }] }),
    });
    await bus.publish(IN, numbers(0, 4));
    const running = await harness(bus).run(stage);
    await bus.caughtUp(GROUP, IN);
    await running.stop();

    const reasons = bus.records(`${IN}.dlq`).map((r) => headerText(r.headers, DLQ_HEADERS.exceptionMessage));
    expect(reasons).toEqual([
      'Encoding the even output threw TypeError: cannot encode',
      'Encoding the even output threw TypeError: cannot encode',
      'Stage parity emitted to an undeclared output "nowhere"',
    ]);
    expect(values(bus, ODD)).toEqual([1]);
  });

  it('publishes an exactly-once stage\'s outputs with the position after its inputs, in one transactional call per batch', async () => {
    const inner = new InMemoryMessageBus({ defaultPartitions: 1 });
    const calls: Array<{ consumed: ConsumedThrough; outputs: readonly TopicMessages[] }> = [];
    const bus = Object.assign(Object.create(inner) as InMemoryMessageBus, {
      publishTransactionally: async (consumed: ConsumedThrough, outputs: readonly TopicMessages[]) => {
        calls.push({ consumed, outputs });
        // The in-memory bus's own atomic publish is another suite's business; here only what the runner asks.
        for (const { topic, messages } of outputs) await inner.publish(topic, messages);
      },
    });
    await inner.publish(IN, numbers(0, 10));
    const running = await harness(bus).run(aParityStage({ exactlyOnce: true }));
    await inner.caughtUp(GROUP, IN);
    await running.stop();

    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThan(10);
    expect(calls.at(-1)!.consumed).toMatchObject({ groupId: GROUP, topic: IN, partition: 0, nextOffset: '10' });
    expect(calls.flatMap((call) => call.outputs.flatMap((o) => o.messages))).toHaveLength(10);
  });

  describe('a concurrent exactly-once stage', () => {
    /** A bus that records each transactional hand-off and then publishes its outputs. */
    const recordingBus = (partitions = 1) => {
      const inner = new InMemoryMessageBus({ defaultPartitions: partitions });
      const calls: Array<{ consumed: ConsumedThrough; outputs: readonly TopicMessages[] }> = [];
      const bus = Object.assign(Object.create(inner) as InMemoryMessageBus, {
        publishTransactionally: async (consumed: ConsumedThrough, outputs: readonly TopicMessages[]) => {
          calls.push({ consumed, outputs });
          await new Promise((resolve) => setTimeout(resolve, 2));
          for (const { topic, messages } of outputs) await inner.publish(topic, messages);
        },
      });
      return { inner, bus, calls, handedOff: () => calls.flatMap((call) => call.outputs.flatMap((o) => o.messages.map((m) => Number(m.value!.toString())))) };
    };

    it('hands off a batch handled at once in one transaction, not one per message', async () => {
      const { inner, bus, calls, handedOff } = recordingBus();
      await inner.publish(IN, numbers(0, 50));
      const running = await harness(bus).run(aParityStage({ ordering: 'concurrent', exactlyOnce: true }), 64);
      await inner.caughtUp(GROUP, IN);
      await running.stop();

      expect(calls).toHaveLength(1);
      expect(calls[0]!.consumed).toMatchObject({ partition: 0, nextOffset: '50' });
      expect(handedOff().sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it('puts everything that finished while a hand-off was under way into the next one, in offset order', async () => {
      const { inner, bus, calls, handedOff } = recordingBus();
      // Finishing one after the other, each a little later than the one before, as a database's answers do.
      const stage = aParityStage({
        ordering: 'concurrent',
        exactlyOnce: true,
        handle: async (n) => {
          await new Promise((resolve) => setTimeout(resolve, n / 4));
          return { kind: 'emit', emissions: [{ output: n % 2 === 0 ? 'even' : 'odd', event: n }] };
        },
      });
      await inner.publish(IN, numbers(0, 60));
      const running = await harness(bus).run(stage, 64);
      await inner.caughtUp(GROUP, IN);
      await running.stop();

      expect(handedOff().sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      const through = calls.map((call) => Number(call.consumed.nextOffset));
      expect(through).toEqual([...through].sort((a, b) => a - b));
      expect(through.at(-1)).toBe(60);
      // About 15 ms of handling, 2 ms per hand-off: a few hand-offs, far fewer than 60.
      expect(calls.length).toBeLessThan(20);
    });

    it('still hands off what precedes a dead letter without waiting for it, and the dead letter alone', async () => {
      const { inner, bus, calls } = recordingBus();
      await inner.publish(IN, [...numbers(0, 5), { key: 'x', value: Buffer.from('x') }, ...numbers(6, 4)]);
      const running = await harness(bus).run(aParityStage({ ordering: 'concurrent', exactlyOnce: true }), 64);
      await inner.caughtUp(GROUP, IN);
      await running.stop();

      expect(calls.map((call) => [call.consumed.nextOffset, call.outputs.reduce((n, o) => n + o.messages.length, 0)])).toEqual([
        ['5', 5],
        ['6', 0],
        ['10', 4],
      ]);
      expect(inner.records(`${IN}.dlq`)).toHaveLength(1);
    });
  });

  it('subscribes each input of a stage under its own group when it has several', () => {
    expect(stageGroupId('', 'payment', 'orders.validated', 1)).toBe('orderflow-payment');
    expect(stageGroupId('t1-', 'notification', 't1-payments.failed', 4)).toBe('t1-orderflow-notification.t1-payments.failed');
  });

  it('refuses a stage name that cannot name a group, a metric and a header', async () => {
    const bus = new InMemoryMessageBus();
    await expect(harness(bus).run(aParityStage({ name: 'Parity Stage' }))).rejects.toThrow(/Invalid stage name "Parity Stage"/);
  });
});
