import { Kafka, ProducerConfig } from 'kafkajs';
import { explainKafkaError, KafkaAdapterError } from '../../../src/adapters/kafka/kafka-errors';
import { KafkaTransactionalPublisher } from '../../../src/adapters/kafka/kafka-transactional-publisher';
import { ConsumedThrough, TopicMessages } from '../../../src/application/ports/message-bus.port';
import { LoggerSpy } from '../../support/logger-spy';

/** What a test makes the next transaction's steps do: throw this error, or wait for this promise. */
type Step = 'send' | 'offsets' | 'commit' | 'abort';

/**
 * kafkajs's transactional producer and admin as far as the publisher uses them, recording every
 * call in `calls` ("p1 send orders×1", "p1 commit"…, p<n> the n-th producer made) so that tests
 * can read the order of the steps; a transaction ends as kafkajs's does (isActive false once commit
 * or abort was called), and `failing`, `holding` and `effects` script the next steps.
 */
class KafkaDouble {
  readonly calls: string[] = [];
  readonly configs: ProducerConfig[] = [];
  readonly failing = new Map<Step, Error>();
  readonly holding = new Map<Step, Promise<void>>();
  /** Run when the step is reached, before it fails or succeeds: what the broker did meanwhile. */
  readonly effects = new Map<Step, () => void>();
  /** The group's committed offset per "group topic partition", as fetchOffsets answers it. */
  readonly committed = new Map<string, string>();
  disconnected = 0;

  get kafka(): Kafka {
    return {
      producer: (config: ProducerConfig) => this.producer(config),
      admin: () => ({
        connect: async () => undefined,
        disconnect: async () => undefined,
        fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
          topics.map((topic) => ({
            topic,
            partitions: [0, 1, 2].map((partition) => ({ partition, offset: this.committed.get(`${groupId} ${topic} ${partition}`) ?? '-1' })),
          })),
      }),
    } as unknown as Kafka;
  }

  private producer(config: ProducerConfig) {
    this.configs.push(config);
    const name = `p${this.configs.length}`;
    let transactions = 0;
    const step = async (which: Step, what: string): Promise<void> => {
      this.calls.push(`${name} ${what}`);
      await this.holding.get(which);
      this.effects.get(which)?.();
      const error = this.failing.get(which);
      if (error !== undefined) {
        this.failing.delete(which);
        throw error;
      }
    };
    return {
      connect: async () => void this.calls.push(`${name} connect`),
      disconnect: async () => {
        this.disconnected++;
        this.calls.push(`${name} disconnect`);
      },
      transaction: async () => {
        // The first is the publisher's InitProducerId, ended at once.
        const initialising = transactions++ === 0;
        let active = true;
        return {
          isActive: () => active,
          sendBatch: ({ topicMessages }: { topicMessages: Array<{ topic: string; messages: unknown[] }> }) =>
            step('send', `send ${topicMessages.map(({ topic, messages }) => `${topic}×${messages.length}`).join(' ')}`),
          sendOffsets: ({ consumerGroupId, topics }: { consumerGroupId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }) =>
            step('offsets', `offsets ${consumerGroupId} ${topics.map((t) => t.partitions.map((p) => `${t.topic}[${p.partition}]@${p.offset}`).join(' ')).join(' ')}`),
          commit: async () => {
            active = false;
            await step('commit', 'commit');
          },
          abort: async () => {
            active = false;
            if (initialising) return void this.calls.push(`${name} init`);
            await step('abort', 'abort');
          },
        };
      },
    };
  }
}

const through = (overrides: Partial<ConsumedThrough> = {}): ConsumedThrough => ({
  groupId: 'orderflow-reserve',
  topic: 'orders',
  partition: 0,
  nextOffset: '10',
  generation: 1,
  ...overrides,
});

const outputs = (...topics: string[]): TopicMessages[] => topics.map((topic) => ({ topic, messages: [{ key: null, value: Buffer.from(topic) }] }));

const protocolError = (type: string, message: string): Error => Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type, retriable: false });

describe('KafkaTransactionalPublisher', () => {
  let double: KafkaDouble;
  let logger: LoggerSpy;
  let publisher: KafkaTransactionalPublisher;

  const aPublisher = (options: ConstructorParameters<typeof KafkaTransactionalPublisher>[2] = {}): KafkaTransactionalPublisher =>
    new KafkaTransactionalPublisher(double.kafka, { logger, explain: (error, action) => explainKafkaError(error, action) }, options);

  beforeEach(() => {
    double = new KafkaDouble();
    logger = new LoggerSpy();
    publisher = aPublisher();
  });

  afterEach(() => publisher.close());

  it('makes one idempotent transactional producer per input partition, its id derived from group, topic and partition, creating no topics', async () => {
    await publisher.publish(through(), outputs('reserved'));
    await publisher.publish(through({ partition: 2 }), outputs('reserved'));
    await publisher.publish(through({ partition: 2, nextOffset: '11' }), outputs('reserved'));

    expect(double.configs.map((config) => config.transactionalId)).toEqual(['orderflow-reserve:orders:0', 'orderflow-reserve:orders:2']);
    for (const config of double.configs) {
      expect(config).toMatchObject({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, transactionTimeout: 60_000 });
    }
  });

  it('sends every output topic, then the group position, then commits, in one transaction', async () => {
    await publisher.publish(through({ nextOffset: '42' }), [
      ...outputs('reserved', 'audit'),
      { topic: 'reserved', messages: [{ key: 'k', value: Buffer.from('second') }] },
      { topic: 'empty', messages: [] },
    ]);

    expect(double.calls).toEqual([
      'p1 connect',
      'p1 init',
      'p1 send reserved×2 audit×1',
      'p1 offsets orderflow-reserve orders[0]@42',
      'p1 commit',
    ]);
  });

  it('runs the hand-offs of one partition one after the other, and those of other partitions meanwhile', async () => {
    let release!: () => void;
    double.holding.set('commit', new Promise((resolve) => (release = resolve)));
    const first = publisher.publish(through({ nextOffset: '1' }), outputs('a'));
    const second = publisher.publish(through({ nextOffset: '2' }), outputs('b'));
    await until(() => double.calls.includes('p1 commit'));
    double.holding.delete('commit');
    await publisher.publish(through({ partition: 1 }), outputs('c'));

    expect(double.calls).not.toContain('p1 send b×1');
    release();
    await Promise.all([first, second]);
    expect(double.calls.filter((call) => call.startsWith('p1 '))).toEqual([
      'p1 connect',
      'p1 init',
      'p1 send a×1',
      'p1 offsets orderflow-reserve orders[0]@1',
      'p1 commit',
      'p1 send b×1',
      'p1 offsets orderflow-reserve orders[0]@2',
      'p1 commit',
    ]);
  });

  it('aborts on a failed send, reports the send failure even when the abort fails too, and replaces the producer', async () => {
    double.failing.set('send', protocolError('MESSAGE_TOO_LARGE', 'The request included a message larger than the max message size the server will accept'));
    double.failing.set('abort', new Error('Connection closed'));

    await expect(publisher.publish(through(), outputs('reserved'))).rejects.toThrow(
      /handing off 1 message\(s\) to reserved .*nothing of it is visible.*max message size/,
    );
    expect(double.calls.slice(-3)).toEqual(['p1 send reserved×1', 'p1 abort', 'p1 disconnect']);
    expect(logger.messages('warn')).toEqual([expect.stringContaining('Kafka transaction abort failed')]);

    await publisher.publish(through(), outputs('reserved'));
    expect(double.calls.slice(-5)).toEqual(['p2 connect', 'p2 init', 'p2 send reserved×1', 'p2 offsets orderflow-reserve orders[0]@10', 'p2 commit']);
  });

  it('names a fenced producer as such, and expects its abort to be refused', async () => {
    await publisher.publish(through(), outputs('reserved'));
    const epoch = protocolError('INVALID_PRODUCER_EPOCH', 'Producer attempted an operation with an old epoch');
    double.failing.set('send', epoch);
    double.failing.set('abort', epoch);

    const failure = await publisher.publish(through({ nextOffset: '11' }), outputs('reserved')).then(
      () => {
        throw new Error('the hand-off should have failed');
      },
      (error: unknown) => error as KafkaAdapterError,
    );
    expect(failure.reason).toBe('fenced');
    expect(failure.message).toContain('orderflow-reserve:orders:0');
    expect(logger.messages('warn')).toEqual([]);
    expect(double.calls).toContain('p1 disconnect');
  });

  it('resolves a commit that failed but went through, as the group position shows once a new producer settled it', async () => {
    double.failing.set('commit', Object.assign(new Error('Request EndTxn timed out'), { name: 'KafkaJSRequestTimeoutError' }));
    // The EndTxn reached the coordinator; its answer did not come back.
    double.effects.set('commit', () => void double.committed.set('orderflow-reserve orders 0', '10'));

    await publisher.publish(through(), outputs('reserved'));

    expect(double.calls).not.toContain('p1 abort');
    expect(double.calls.slice(-4)).toEqual(['p1 commit', 'p1 disconnect', 'p2 connect', 'p2 init']);
    expect(logger.lines.find((line) => line.message.includes('commit failed'))?.fields.outcome).toBe('committed');
  });

  it('does not settle a commit refused by fencing: a new producer would take the id back from the new owner', async () => {
    double.failing.set('commit', protocolError('INVALID_PRODUCER_EPOCH', 'Producer attempted an operation with an old epoch'));

    await expect(publisher.publish(through(), outputs('reserved'))).rejects.toThrow(/nothing of it is visible.*this producer was fenced/);
    expect(double.configs).toHaveLength(1);
  });

  it("owns a partition's position from its first hand-off on, so that the bus leaves out the subscription's commits of it whatever their offset", async () => {
    expect(publisher.ownsPosition('orderflow-reserve', { topic: 'orders', partition: 0 })).toBe(false);
    // Owned as soon as the hand-off is under way: the subscription's first unacked offset can
    // lie past the last hand-off's nextOffset (a transaction marker between them), and its
    // commit, issued now, could be written after this transaction's offsets.
    const underWay = publisher.publish(through({ nextOffset: '10' }), outputs('reserved'));
    expect(publisher.ownsPosition('orderflow-reserve', { topic: 'orders', partition: 0 })).toBe(true);
    await underWay;

    expect(publisher.ownsPosition('orderflow-reserve', { topic: 'orders', partition: 1 })).toBe(false);
    expect(publisher.ownsPosition('another-group', { topic: 'orders', partition: 0 })).toBe(false);
    expect(publisher.ownsPosition('orderflow-reserve', { topic: 'payments', partition: 0 })).toBe(false);
  });

  it('keeps owning the position once the idle producer of the partition is retired', async () => {
    publisher = aPublisher({ idleProducerMs: 20 });
    await publisher.publish(through({ nextOffset: '10' }), outputs('reserved'));
    await until(() => double.disconnected === 1);

    expect(publisher.ownsPosition('orderflow-reserve', { topic: 'orders', partition: 0 })).toBe(true);
  });

  it('rejects a commit that failed and was aborted, and goes on with the settling producer', async () => {
    double.failing.set('commit', new Error('Connection closed'));

    await expect(publisher.publish(through(), outputs('reserved'))).rejects.toThrow(/nothing of it is visible and the group's position has not moved/);
    await publisher.publish(through(), outputs('reserved'));
    expect(double.calls.slice(-3)).toEqual(['p2 send reserved×1', 'p2 offsets orderflow-reserve orders[0]@10', 'p2 commit']);
  });

  it('publishes nothing again when a new producer finds the group committed past the inputs already', async () => {
    double.committed.set('orderflow-reserve orders 0', '12');

    await publisher.publish(through({ nextOffset: '12' }), outputs('reserved'));
    expect(double.calls).toEqual(['p1 connect', 'p1 init']);
    expect(logger.messages('info')).toEqual([expect.stringContaining('Kafka hand-off skipped')]);

    // A warm producer holds the only epoch: no position check before each hand-off.
    await publisher.publish(through({ nextOffset: '12' }), outputs('reserved'));
    expect(double.calls.slice(-1)).toEqual(['p1 commit']);
  });

  it('disconnects a producer left idle, and makes a new one for the next hand-off', async () => {
    publisher = aPublisher({ idleProducerMs: 20 });
    await publisher.publish(through(), outputs('reserved'));
    await until(() => double.disconnected === 1);

    await publisher.publish(through({ nextOffset: '11' }), outputs('reserved'));
    expect(double.configs).toHaveLength(2);
  });

  it('closes after the hand-offs under way, disconnecting every producer, and refuses hand-offs from then on', async () => {
    let release!: () => void;
    double.holding.set('commit', new Promise((resolve) => (release = resolve)));
    const underWay = [publisher.publish(through({ partition: 1 }), outputs('a')), publisher.publish(through(), outputs('b'))];
    await until(() => double.calls.filter((call) => call.endsWith('commit')).length === 2);

    const closed = publisher.close();
    await expect(publisher.publish(through({ partition: 2 }), outputs('c'))).rejects.toThrow('closed');
    expect(double.disconnected).toBe(0);
    release();
    await Promise.all([...underWay, closed]);
    expect(double.disconnected).toBe(2);
  });

  it('refuses a malformed hand-off before any producer is made', async () => {
    await expect(publisher.publish(through({ nextOffset: '-1' }), outputs('a'))).rejects.toThrow(/nextOffset must be a decimal offset/);
    await expect(publisher.publish(through(), [{ topic: '', messages: [] }])).rejects.toThrow(/outputs\[0\]\.topic/);
    expect(double.configs).toEqual([]);
  });
});

const until = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};
