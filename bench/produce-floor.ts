import { Partitioners } from 'kafkajs';
import { OutboundMessage } from '../src/application/ports/message-bus.port';
import { COMPRESSION, KafkaCompression } from '../src/adapters/kafka/kafka-batching-publisher';
import { createKafka, registerSnappyCodec } from '../src/adapters/kafka/kafka-connection';
import { KafkaMessageBus } from '../src/adapters/kafka/kafka-message-bus';
import { finish, jobOf, notifyParent, peakRssMb } from './child';
import { loadCkjs } from './ckjs';
import { OrderFactory, publishInChunks } from './load';

/**
 * The producer side of the Kafka client comparison: the same orders published to a topic of their
 * own in the pre-fill's pattern (chunks of 2,000, four in flight), by
 * - `port`: KafkaMessageBus, as the bench's pre-fill does (its app-side linger buffer over kafkajs);
 * - `kafkajs`: the bare kafkajs producer the port configures (idempotent, acks = all, one request
 *   in flight), one `send` per chunk: kafkajs has no linger of its own;
 * - `ckjs`: @confluentinc/kafka-javascript's KafkaJS-compatible producer, idempotent with acks =
 *   all, with the pre-fill's linger and batch limits as librdkafka properties, and Kafka's murmur2
 *   partitioner (its KafkaJS mode sets it too; librdkafka's own default, CRC32, would place keys
 *   unlike the Java client and KafkaMessageBus).
 * The orders are made before the clock starts, so the CPU per message is the client's (and the
 * process's GC), not the generator's.
 */
export type ProduceFloorClient = 'port' | 'kafkajs' | 'ckjs';

export interface ProduceFloorJob {
  readonly client: ProduceFloorClient;
  readonly kafkaBrokers: readonly string[];
  readonly topic: string;
  readonly messages: number;
  readonly runId: string;
  readonly publishing: { readonly lingerMs: number; readonly maxBatchMessages: number; readonly maxBatchBytes: number; readonly compression: KafkaCompression };
  readonly ckjsModule?: string;
}

export interface ProduceFloorResult {
  readonly client: ProduceFloorClient;
  readonly sent: number;
  readonly elapsedS: number;
  readonly messagesPerS: number;
  /** CPU seconds this process used while publishing (librdkafka's threads included). */
  readonly cpuS: number;
  readonly cpuUsPerMessage: number;
  readonly peakRssMb: number;
}

interface Sender {
  send(messages: readonly OutboundMessage[]): Promise<unknown>;
  close(): Promise<void>;
}

const senderFor = async (job: ProduceFloorJob): Promise<Sender> => {
  const clientId = `orderflow-bench-produce-${job.client}`;
  const { topic, publishing } = job;
  switch (job.client) {
    case 'port': {
      const bus = new KafkaMessageBus({ brokers: job.kafkaBrokers, clientId }, { publishing });
      await bus.start();
      return { send: (messages) => bus.publish(topic, messages), close: () => bus.close() };
    }
    case 'kafkajs': {
      registerSnappyCodec();
      const producer = createKafka({ brokers: job.kafkaBrokers, clientId }).producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const compression = COMPRESSION[publishing.compression];
      return {
        send: (messages) => producer.send({ topic, acks: -1, compression, messages: messages.map(({ key, value }) => ({ key, value })) }),
        close: () => producer.disconnect(),
      };
    }
    case 'ckjs': {
      if (job.ckjsModule === undefined) throw new Error('the ckjs producer needs ckjsModule, the path of the installed @confluentinc/kafka-javascript');
      const { Kafka, logLevel } = loadCkjs(job.ckjsModule);
      const producer = new Kafka({ kafkaJS: { brokers: [...job.kafkaBrokers], clientId, logLevel: logLevel.WARN } }).producer({
        kafkaJS: { idempotent: true, acks: -1, compression: publishing.compression },
        'linger.ms': publishing.lingerMs,
        'batch.num.messages': publishing.maxBatchMessages,
        'batch.size': publishing.maxBatchBytes,
        partitioner: 'murmur2_random',
      });
      await producer.connect();
      return { send: (messages) => producer.send({ topic, messages: messages.map(({ key, value }) => ({ key, value })) }), close: () => producer.disconnect() };
    }
  }
};

const run = async (job: ProduceFloorJob): Promise<ProduceFloorResult> => {
  const factory = new OrderFactory(job.runId);
  const producedAt = Date.now();
  const orders = Array.from({ length: job.messages }, () => factory.next(producedAt));
  const sender = await senderFor(job);
  // Connected (and, for the port, its producer too): the harness accounts the CPU from here.
  notifyParent('first-delivery');
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  const messagesPerS = await publishInChunks(job.messages, (size, from) => orders.slice(from, from + size), (messages) => sender.send(messages));
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  notifyParent('done');
  await sender.close();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { client: job.client, sent: job.messages, elapsedS, messagesPerS, cpuS, cpuUsPerMessage: (cpuS * 1e6) / job.messages, peakRssMb: peakRssMb() };
};

run(jobOf<ProduceFloorJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench produce floor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
