import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CosOrderArchive } from '../../../src/adapters/cos/cos-order-archive';
import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { partitionForKey } from '../../../src/adapters/memory/murmur2-partitioner';
import { headerText, OutboundMessage } from '../../../src/application/ports/message-bus.port';
import { aWireOrder, wireBytes } from '../../support/builders';
import { eventually } from '../../support/integration-config';
import { readStackEnv, REPO_ROOT } from '../../support/stack-env';

/**
 * Exactly-once by name on the real broker and the real MinIO, across consumer restarts, with the
 * service as it runs in production: `orderflow consume` in a process of its own, configured by
 * the environment, stopped with SIGTERM or killed with SIGKILL.
 *
 *   1. A first consumer archives the first part of the stream and is stopped: it commits the
 *      batch boundary before its open batch and gives that batch back.
 *   2. A second consumer, which never commits (KAFKA_COMMIT_INTERVAL_MS of ten minutes), archives
 *      the rest and is killed: its objects are in the bucket, its offsets nowhere.
 *   3. A third consumer re-reads from the committed boundary. It must rewrite exactly the objects
 *      the killed one wrote — same names, same records — and nothing else.
 *
 * The expected objects are computed here from the rules (100 messages, or a UTC date change),
 * independently of the sink's code.
 */
const BUILD_DIR = path.join(REPO_ROOT, '.cache', 'batched-sink-it', 'dist');
const CLI = path.join(BUILD_DIR, 'main', 'cli.js');
const PARTITIONS = 2;
const BATCH = 100;
const PER_PARTITION = 620;
/** Stream positions (per partition) where the event time crosses midnight UTC, and where phase 2 begins. */
const NEXT_DAY_FROM = 230;
const PHASE_TWO_FROM = 300;
/** Malformed messages, at these positions of each partition: dead letters inside batches. */
const MALFORMED_AT = new Set([5, 333, 430]);

interface Planned {
  readonly message: OutboundMessage;
  readonly id?: string;
  readonly eventTimeMs?: number;
}

/** Messages of one partition in offset order: orders 100 ms apart, crossing midnight at NEXT_DAY_FROM. */
const planPartition = (run: string, partition: number): Planned[] => {
  const keys = keysFor(run, partition);
  return Array.from({ length: PER_PARTITION }, (_, index) => {
    const key = keys.next().value as string;
    if (MALFORMED_AT.has(index)) return { message: { key, value: Buffer.from('{"id": "truncated') } };
    const eventTimeMs = Date.parse(index < NEXT_DAY_FROM ? '2026-11-22T23:50:00.000Z' : '2026-11-23T00:00:00.000Z') + index * 100;
    const order = aWireOrder({ id: key, produced_at: new Date(eventTimeMs).toISOString() });
    return { message: { key, value: wireBytes(order) }, id: key, eventTimeMs };
  });
};

/** Order ids (also the keys) that Kafka's partitioner puts on the given partition. */
function* keysFor(run: string, partition: number): Generator<string> {
  for (let i = 0; ; i++) {
    const key = `o-${run}-${i}`;
    if (partitionForKey(key, PARTITIONS) === partition) yield key;
  }
}

interface ExpectedObject {
  readonly key: string;
  readonly ids: readonly string[];
  readonly startOffset: number;
}

/** The rotation rules, restated: a batch closes at BATCH messages, and before an order of another UTC date. */
const expectedObjects = (prefix: string, topic: string, partition: number, planned: readonly Planned[]) => {
  const objects: ExpectedObject[] = [];
  let batch: { messages: number; ids: string[]; startOffset?: number; day?: string; firstOffset: number } | undefined;
  const close = (): void => {
    if (batch?.startOffset !== undefined) {
      const key = `${prefix}/dt=${batch.day}/${topic}+${partition}+${String(batch.startOffset).padStart(10, '0')}.ndjson`;
      objects.push({ key, ids: batch.ids, startOffset: batch.startOffset });
    }
    batch = undefined;
  };
  planned.forEach((entry, offset) => {
    const day = entry.eventTimeMs === undefined ? undefined : new Date(entry.eventTimeMs).toISOString().slice(0, 10);
    if (batch?.day !== undefined && day !== undefined && day !== batch.day) close();
    batch ??= { messages: 0, ids: [], firstOffset: offset };
    batch.messages++;
    if (entry.id !== undefined) {
      batch.ids.push(entry.id);
      batch.startOffset ??= offset;
      batch.day ??= day;
    }
    if (batch.messages === BATCH) close();
  });
  // The last batch stays open: nothing closes it, so it is neither written nor committed.
  return { objects, committed: batch?.firstOffset ?? planned.length };
};

/** `orderflow consume` in its own process, from a private build (dist/ belongs to `npm run build`). */
class Consumer {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, 'consume'], {
      cwd: BUILD_DIR,
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) stream.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return (await this.exited).code;
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
    cwd: REPO_ROOT,
    timeout: 5 * 60_000,
  });
}, 5 * 60_000);

/**
 * One test's topics, group and prefix on the shared stack, the environment of its consumers, and
 * the clients the test itself publishes and reads with.
 */
const aRun = (tag: string) => {
  const stack = readStackEnv();
  const run = `${tag}-${randomUUID().slice(0, 8)}`;
  const topic = `${run}.orders`;
  const env = {
    KAFKA_BROKERS: stack.kafkaBrokers,
    ORDERS_TOPIC: topic,
    DLQ_TOPIC: `${topic}.dlq`,
    CONSUMER_GROUP: `${run}-group`,
    COS_PREFIX: `${run}/orders`,
    COS_ENDPOINT: stack.cosEndpoint,
    COS_BUCKET: stack.cosBucket,
    COS_ACCESS_KEY_ID: stack.cosAccessKeyId,
    COS_SECRET_ACCESS_KEY: stack.cosSecretAccessKey,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    ORDERFLOW_SINK: 'batched',
    ORDERFLOW_BATCH_MAX_MESSAGES: String(BATCH),
  };
  const brokers = stack.kafkaBrokers.split(',');
  const admin = new KafkaTopicAdmin({ brokers, clientId: `${run}-admin` });
  const producer = new KafkaMessageBus({ brokers, clientId: `${run}-producer` });
  const archive = new CosOrderArchive({
    endpoint: stack.cosEndpoint,
    bucket: stack.cosBucket,
    credentials: { kind: 'hmac', accessKeyId: stack.cosAccessKeyId, secretAccessKey: stack.cosSecretAccessKey },
  });
  return {
    run,
    topic,
    objectPrefix: `${env.COS_PREFIX}-batched`,
    env,
    brokers,
    admin,
    producer,
    archive,
    committed: (): Promise<number[]> => admin.committedPositions(env.CONSUMER_GROUP, topic),
    createTopics: () =>
      admin.ensureTopics([
        { topic, partitions: PARTITIONS },
        { topic: env.DLQ_TOPIC, partitions: 1 },
      ]),
    close: async (): Promise<void> => {
      await producer.close();
      await admin.close();
      archive.close();
    },
  };
};

describe('the batched sink on Kafka and MinIO', () => {
  it('rewrites exactly the objects a killed consumer wrote, under the same names, when the next one re-reads from the committed offset', async () => {
    const { run, topic, objectPrefix, env, brokers, producer, archive, committed, createTopics, close } = aRun('bs');
    const consumers: Consumer[] = [];
    const start = (overrides: Record<string, string> = {}): Consumer => {
      const consumer = new Consumer({ ...env, ...overrides });
      consumers.push(consumer);
      return consumer;
    };
    const bodies = async (keys: readonly string[]): Promise<Map<string, string>> =>
      new Map(await Promise.all(keys.map(async (key) => [key, (await archive.get(key))?.toString() ?? ''] as const)));
    try {
      await createTopics();
      const planned = Array.from({ length: PARTITIONS }, (_, partition) => planPartition(run, partition));
      const final = planned.map((messages, partition) => expectedObjects(objectPrefix, topic, partition, messages));
      const afterPhaseOne = planned.map((messages, partition) => expectedObjects(objectPrefix, topic, partition, messages.slice(0, PHASE_TWO_FROM)));
      const publish = (from: number, to: number) => producer.publish(topic, planned.flatMap((messages) => messages.slice(from, to).map((m) => m.message)));

      // 1. Archive the first part, then stop gracefully at a batch boundary.
      await publish(0, PHASE_TWO_FROM);
      const first = start();
      const boundary = afterPhaseOne.map((p) => p.committed);
      await eventually(async () => (await committed()).every((position, p) => position === boundary[p]), async () => `commits at ${boundary}, saw ${await committed()}`);
      expect(await first.stop()).toBe(0);
      expect(await committed()).toEqual(boundary);

      // 2. Archive the rest without ever committing, then die.
      await publish(PHASE_TWO_FROM, PER_PARTITION);
      const doomed = start({ KAFKA_COMMIT_INTERVAL_MS: '600000' });
      const expectedKeys = final.flatMap((p) => p.objects.map((o) => o.key)).sort();
      let keys: string[] = [];
      await eventually(async () => (keys = await archive.list(`${objectPrefix}/`)).length === expectedKeys.length, () => `${expectedKeys.length} objects, saw ${keys.length}`);
      await doomed.kill();
      expect(await committed()).toEqual(boundary);
      const uncommittedKeys = final.flatMap((p, partition) => p.objects.filter((o) => o.startOffset >= boundary[partition]!).map((o) => o.key));
      expect(uncommittedKeys.length).toBeGreaterThan(0);
      const writtenByTheKilled = await bodies(uncommittedKeys);

      // 3. Re-read from the committed offsets.
      const last = start();
      const tail = final.map((p) => p.committed);
      await eventually(async () => (await committed()).every((position, p) => position === tail[p]), async () => `commits at ${tail}, saw ${await committed()}`);
      expect(await last.stop()).toBe(0);

      expect(await archive.list(`${objectPrefix}/`)).toEqual(expectedKeys);
      const finalBodies = await bodies(expectedKeys);
      const idsOf = (body: string): string[] => body.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
      for (const { objects } of final) for (const object of objects) expect(idsOf(finalBodies.get(object.key)!)).toEqual(object.ids);
      for (const [key, before] of writtenByTheKilled) {
        // Rewritten by the last consumer: the same records, processed again (a later consumed_at).
        const after = finalBodies.get(key)!;
        expect(idsOf(after)).toEqual(idsOf(before));
        const consumedAt = (body: string): string => (JSON.parse(body.split('\n')[0]!) as { consumed_at: string }).consumed_at;
        expect(consumedAt(after) > consumedAt(before)).toBe(true);
      }
      // Every malformed message is on the dead-letter topic (replays may have sent some twice).
      const deadLettered = await readDeadLetters(brokers, env.DLQ_TOPIC, PARTITIONS * MALFORMED_AT.size);
      expect([...new Set(deadLettered)].sort()).toEqual(
        [...Array.from({ length: PARTITIONS }, (_, p) => [...MALFORMED_AT].map((offset) => `${p}:${offset}`))].flat().sort(),
      );
    } finally {
      for (const consumer of consumers) await consumer.kill();
      await close();
    }
  }, 240_000);
});

describe('the batched sink with idle cuts (ORDERFLOW_BATCH_IDLE_FLUSH_MS) on Kafka and MinIO', () => {
  it('archives and commits an idle partition\'s last orders, each order once, in objects whose names give their records', async () => {
    const { run, topic, objectPrefix, env, producer, archive, committed, createTopics, close } = aRun('bi');
    const consumer = new Consumer({ ...env, ORDERFLOW_BATCH_IDLE_FLUSH_MS: '1500' });
    try {
      await createTopics();
      // 150 and then 30 more per partition: neither ends on a batch boundary, so only idle cuts can finish them.
      const planned = Array.from({ length: PARTITIONS }, (_, partition) => planPartition(run, partition).slice(0, 180));
      const caughtUpTo = async (end: number): Promise<void> =>
        eventually(
          async () => (await committed()).every((position) => position === end),
          async () => `commits at ${end} on every partition, saw ${await committed()}`,
        );
      await producer.publish(topic, planned.flatMap((messages) => messages.slice(0, 150).map((m) => m.message)));
      await caughtUpTo(150);
      await producer.publish(topic, planned.flatMap((messages) => messages.slice(150).map((m) => m.message)));
      await caughtUpTo(180);
      expect(await consumer.stop()).toBe(0);

      const keys = await archive.list(`${objectPrefix}/`);
      const name = new RegExp(`^${objectPrefix}/dt=\\d{4}-\\d{2}-\\d{2}/${topic.replace('.', '\\.')}\\+(\\d+)\\+(\\d{10})(?:\\+(\\d{10}))?\\.ndjson$`);
      const archived: string[] = [];
      let idleCuts = 0;
      for (const key of keys) {
        const [, partition, start, end] = name.exec(key) ?? [];
        expect(partition).toBeDefined();
        const messages = planned[Number(partition)]!;
        const last = end === undefined ? undefined : Number(end);
        if (last !== undefined) idleCuts++;
        const ids = ((await archive.get(key))?.toString() ?? '').trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
        // The name gives the records: from its start offset on, up to its end offset (idle cut) or for as many as it holds.
        const from = messages.map((m, offset) => ({ ...m, offset })).filter((m) => m.offset >= Number(start) && m.id !== undefined);
        const expected = (last === undefined ? from.slice(0, ids.length) : from.filter((m) => m.offset <= last)).map((m) => m.id);
        expect(ids).toEqual(expected);
        archived.push(...ids);
      }
      // Every valid order of both partitions, each in exactly one object.
      const sent = planned.flatMap((messages) => messages.flatMap((m) => (m.id === undefined ? [] : [m.id])));
      expect(archived.sort()).toEqual(sent.sort());
      expect(idleCuts).toBeGreaterThanOrEqual(2 * PARTITIONS);
    } finally {
      await consumer.kill();
      await close();
    }
  }, 120_000);
});

/** `partition:offset` of each dead letter, read with the service's own bus under a group of the test's own. */
const readDeadLetters = async (brokers: readonly string[], topic: string, atLeast: number): Promise<string[]> => {
  const bus = new KafkaMessageBus({ brokers, clientId: 'dlq-reader' });
  const seen: string[] = [];
  await bus.subscribe({
    topic,
    groupId: `${topic}-reader`,
    handler: (delivery) => {
      seen.push(`${headerText(delivery.message.headers, DLQ_HEADERS.partition)}:${headerText(delivery.message.headers, DLQ_HEADERS.offset)}`);
      delivery.ack();
    },
  });
  try {
    await eventually(async () => seen.length >= atLeast, () => `${atLeast} dead letters, saw ${seen.length}`, 30_000);
    return seen;
  } finally {
    await bus.close();
  }
};
