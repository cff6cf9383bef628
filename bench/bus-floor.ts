import { createKafka, registerSnappyCodec } from '../src/adapters/kafka/kafka-connection';
import { KafkaMessageBus } from '../src/adapters/kafka/kafka-message-bus';
import { finish, jobOf, notifyParent, peakRssMb } from './child';
import { loadCkjs } from './ckjs';

/**
 * B2's floor: how fast messages can be consumed at all, without decoding or archiving anything.
 * `kafkajs` is the bare client loop (eachBatch, kafkajs resolving and committing each batch on its
 * own interval); `port-batch` is KafkaMessageBus with a batch handler that only acks its batch;
 * `port-delivery` the same with a per-message handler that only acks. The gaps between them are
 * the port's own cost per message, in each shape, against the client it wraps.
 *
 * The `ckjs-*` loops are the same bare loop on @confluentinc/kafka-javascript's KafkaJS-compatible
 * API (librdkafka underneath; installed on demand, bench/ckjs-install.ts), for the Kafka client
 * comparison: `ckjs-batch` with its default of at most 32 messages per `eachBatch` call,
 * `ckjs-batch-unbounded` with `js.consumer.max.batch.size: -1` (all a partition has fetched, as
 * kafkajs hands over), `ckjs-message` with `eachMessage`. Process CPU includes librdkafka's threads.
 */
export type BusFloorLoop = 'kafkajs' | 'port-batch' | 'port-delivery' | CkjsFloorLoop;
export type CkjsFloorLoop = 'ckjs-batch' | 'ckjs-batch-unbounded' | 'ckjs-message';

export interface BusFloorJob {
  readonly loop: BusFloorLoop;
  readonly kafkaBrokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly maxInFlight: number;
  /** As the service's KAFKA_MAX_PARTITION_FETCH_BYTES, so that every loop fetches alike. */
  readonly maxBytesPerPartition?: number;
  readonly expect: number;
  readonly timeoutMs: number;
  /** Where the ckjs loops load the package from (the install's modulePath). */
  readonly ckjsModule?: string;
}

export interface BusFloorResult {
  readonly loop: BusFloorLoop;
  readonly consumed: number;
  readonly complete: boolean;
  /** From the first message handed over to the last one acked. */
  readonly elapsedS: number;
  readonly ordersPerS: number;
  /** CPU seconds this process used over the same span. */
  readonly cpuS: number;
  readonly peakRssMb: number;
}

const run = async (job: BusFloorJob): Promise<BusFloorResult> => {
  let consumed = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  const started = (): void => {
    if (firstAt !== undefined) return;
    firstAt = performance.now();
    cpuAtFirst = process.cpuUsage();
    notifyParent('first-delivery');
  };
  const counted = (messages: number): void => {
    consumed += messages;
    lastAt = performance.now();
  };
  const fetching = job.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: job.maxBytesPerPartition };

  let stop: () => Promise<void>;
  if (job.loop === 'kafkajs') {
    // The bus registers it itself; the bare client needs it to read the snappy batches the prefill wrote.
    registerSnappyCodec();
    const consumer = createKafka({ brokers: job.kafkaBrokers, clientId: 'orderflow-bench-floor' }).consumer({ groupId: job.groupId, ...fetching });
    await consumer.connect();
    await consumer.subscribe({ topic: job.topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        started();
        counted(batch.messages.length);
      },
    });
    stop = () => consumer.disconnect();
  } else if (job.loop === 'ckjs-batch' || job.loop === 'ckjs-batch-unbounded' || job.loop === 'ckjs-message') {
    if (job.ckjsModule === undefined) throw new Error(`${job.loop} needs ckjsModule, the path of the installed @confluentinc/kafka-javascript`);
    const { Kafka, logLevel } = loadCkjs(job.ckjsModule);
    const kafka = new Kafka({ kafkaJS: { brokers: [...job.kafkaBrokers], clientId: 'orderflow-bench-floor', logLevel: logLevel.WARN } });
    const consumer = kafka.consumer({
      // fromBeginning belongs to the consumer's config here, not to subscribe().
      kafkaJS: { groupId: job.groupId, fromBeginning: true, ...fetching },
      ...(job.loop === 'ckjs-batch-unbounded' ? { 'js.consumer.max.batch.size': -1 } : {}),
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [job.topic] });
    await consumer.run(
      job.loop === 'ckjs-message'
        ? {
            eachMessage: async () => {
              started();
              counted(1);
            },
          }
        : {
            eachBatch: async ({ batch }) => {
              started();
              counted(batch.messages.length);
            },
          },
    );
    stop = () => consumer.disconnect();
  } else {
    const bus = new KafkaMessageBus({ brokers: job.kafkaBrokers, clientId: 'orderflow-bench-floor' }, { consuming: fetching });
    const subscription =
      job.loop === 'port-batch'
        ? await bus.subscribe({
            topic: job.topic,
            groupId: job.groupId,
            maxInFlight: job.maxInFlight,
            batchHandler: (batch) => {
              started();
              batch.ackThrough(batch.messages.length - 1);
              counted(batch.messages.length);
            },
          })
        : await bus.subscribe({
            topic: job.topic,
            groupId: job.groupId,
            maxInFlight: job.maxInFlight,
            handler: (delivery) => {
              started();
              delivery.ack();
              counted(1);
            },
          });
    stop = async () => {
      await subscription.stop({ deadlineMs: 5_000 });
      await bus.close();
    };
  }

  const deadline = Date.now() + job.timeoutMs;
  while (consumed < job.expect && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const cpu = process.cpuUsage(cpuAtFirst);
  notifyParent('done');
  const elapsedS = firstAt === undefined ? 0 : (lastAt - firstAt) / 1000;
  const result: BusFloorResult = {
    loop: job.loop,
    consumed,
    complete: consumed >= job.expect,
    elapsedS,
    ordersPerS: elapsedS > 0 ? consumed / elapsedS : 0,
    cpuS: (cpu.user + cpu.system) / 1e6,
    peakRssMb: peakRssMb(),
  };
  await stop();
  return result;
};

run(jobOf<BusFloorJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench bus floor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
