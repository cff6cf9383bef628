import { createKafka } from '../src/adapters/kafka/kafka-connection';
import { limitConcurrency } from '../src/adapters/cos/concurrency-limit';
import { hiveKey } from '../src/domain/hive-key';
import { OrderId } from '../src/domain/order';
import { AckLatency, epochMs, producedAtOf } from './ack-latency';
import { BarePutTarget, barePut, objectPath } from './bare-put';
import { finish, jobOf, nextFromParent, notifyParent, peakRssMb } from './child';
import type { ServiceResult } from './service';

/**
 * B5's limit: the same open loop, at the same rate, through the bare parts alone. A kafkajs
 * consumer hands each batch to a loop that PUTs every message as it came (its JSON as the body,
 * a Hive key from its id and produced_at) with the bare client B3's limit uses, and records the
 * latency from the intended send time to the PUT's answer. Nothing decodes, scores or tracks the
 * order and no offset is committed (kafkajs still moves its fetch position on), so this is less
 * than the service must do: the least latency the machine's broker, store and cores give an order
 * at that rate. As the service does, the loop returns from each batch at once and keeps up to
 * `concurrency` PUTs in flight, so one slow PUT holds up no other partition.
 */
export interface OpenLoopFloorJob extends BarePutTarget {
  readonly kafkaBrokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly prefix: string;
  /** As the service's KAFKA_MAX_PARTITION_FETCH_BYTES, KAFKA_FETCH_MIN_BYTES and KAFKA_FETCH_MAX_WAIT_MS. */
  readonly maxBytesPerPartition?: number;
  readonly minBytes?: number;
  readonly maxWaitTimeInMs?: number;
  readonly timeoutMs: number;
}

const run = async (job: OpenLoopFloorJob): Promise<ServiceResult> => {
  const store = barePut(job);
  const latency = new AckLatency();
  let acked = 0;
  let firstDeliveryAt: number | undefined;
  let cpuAtFirstDelivery: NodeJS.CpuUsage | undefined;
  let lastAckAt = 0;
  let failure: Error | undefined;

  // At most `concurrency` PUTs at once, the rest queued in order: the archive's own limit.
  const limit = limitConcurrency(job.concurrency);

  const consumer = createKafka({ brokers: job.kafkaBrokers, clientId: 'orderflow-bench-open-loop-floor' }).consumer({
    groupId: job.groupId,
    ...(job.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: job.maxBytesPerPartition }),
    ...(job.minBytes === undefined ? {} : { minBytes: job.minBytes }),
    ...(job.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: job.maxWaitTimeInMs }),
  });
  await consumer.connect();
  await consumer.subscribe({ topic: job.topic, fromBeginning: true });
  // run() resolves once the group is joined, as the service's pipeline.start() does.
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (firstDeliveryAt === undefined) {
        firstDeliveryAt = performance.now();
        cpuAtFirstDelivery = process.cpuUsage();
        notifyParent('first-delivery');
      }
      const deliveredAt = epochMs();
      for (const message of batch.messages) {
        const body = message.value!;
        const intended = producedAtOf(body);
        // The generator's ids are valid order ids; the bare loop does not check them.
        const key = hiveKey(job.prefix, intended, message.key!.toString() as OrderId);
        void limit(() => store.put(objectPath(job.bucket, key), body)).then(
          () => {
            acked++;
            lastAckAt = performance.now();
            latency.record(intended, deliveredAt);
          },
          (error: unknown) => void (failure ??= error instanceof Error ? error : new Error(String(error))),
        );
      }
    },
  });
  notifyParent('ready');

  latency.from = (await nextFromParent<{ from: number }>('measure')).payload!.from;
  const expectation = (await nextFromParent<{ count: number; lastIntendedAt: number }>('expect')).payload!;
  const deadline = Date.now() + job.timeoutMs;
  while (latency.recorded < expectation.count && failure === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const cpu = process.cpuUsage(cpuAtFirstDelivery);
  notifyParent('done');
  if (failure !== undefined) throw failure;
  const elapsedS = firstDeliveryAt === undefined ? 0 : (lastAckAt - firstDeliveryAt) / 1000;
  const result: ServiceResult = {
    acked,
    complete: latency.recorded >= expectation.count,
    elapsedS,
    ordersPerS: elapsedS > 0 ? acked / elapsedS : 0,
    peakRssMb: peakRssMb(),
    cpuS: (cpu.user + cpu.system) / 1e6,
    latencyMs: latency.summary(expectation.count, expectation.lastIntendedAt),
  };
  await consumer.disconnect();
  store.close();
  return result;
};

run(jobOf<OpenLoopFloorJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench open-loop floor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
