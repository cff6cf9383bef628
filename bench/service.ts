import { CosOrderArchive } from '../src/adapters/cos/cos-order-archive';
import { KafkaMessageBus } from '../src/adapters/kafka/kafka-message-bus';
import { OrderArchivePort } from '../src/application/ports/order-archive.port';
import { AppConfig, CosSettings, EMBEDDED_DEFAULTS, KafkaSettings, SinkKind } from '../src/main/config';
import { buildContainer } from '../src/main/container';
import { TOKENS } from '../src/main/di-tokens';
import { finish, jobOf, nextFromParent, notifyParent, peakRssMb } from './child';
import { AckLatency, LatencySummary, producedAtOf } from './ack-latency';
import { MeteredMessageBus } from './metered-message-bus';

/** One run of the service as `orderflow consume` wires it (buildContainer), measured from inside. */
export interface ServiceJob {
  readonly kafka: KafkaSettings;
  readonly cos: CosSettings;
  readonly topic: string;
  readonly groupId: string;
  /** `null`: every write succeeds at once (B2 measures the consumer, not the store). */
  readonly archive: 'cos' | 'null';
  readonly prefix: string;
  readonly sink: SinkKind;
  readonly batch: AppConfig['batch'];
  readonly maxInFlight: number;
  /** Stop once this many messages are acked; absent: the parent sends an `expect` message (open loop). */
  readonly expect?: number;
  /**
   * Open loop: once ready, wait for a `measure` message saying from which produced_at on to record
   * latencies, then for `expect` with the number of orders to wait for.
   */
  readonly latency?: boolean;
  /** Sample the process's RSS this often (ms) from the first delivery on: B6's soak. */
  readonly rssSampleMs?: number;
  readonly timeoutMs: number;
}

export interface ServiceResult {
  readonly acked: number;
  readonly complete: boolean;
  /** From the first delivery to the last ack. */
  readonly elapsedS: number;
  readonly ordersPerS: number;
  readonly peakRssMb: number;
  /** CPU seconds this process used between the first delivery and the last ack. */
  readonly cpuS: number;
  readonly latencyMs?: LatencySummary;
  /** [seconds since the first delivery, RSS in MiB], when the job asked for samples. */
  readonly rssSamples?: ReadonlyArray<readonly [number, number]>;
}

const run = async (job: ServiceJob): Promise<ServiceResult> => {
  const config: AppConfig = {
    ...EMBEDDED_DEFAULTS,
    bus: 'kafka',
    archive: job.archive === 'cos' ? 'cos' : 'memory',
    sink: job.sink,
    batch: job.batch,
    ordersTopic: job.topic,
    dlqTopic: `${job.topic}.dlq`,
    consumerGroup: job.groupId,
    archivePrefix: job.prefix,
    maxInFlight: job.maxInFlight,
    logLevel: 'warn',
    kafka: job.kafka,
    cos: job.cos,
  };
  const latency = job.latency === true ? new AckLatency() : undefined;
  let metered: MeteredMessageBus | undefined;
  const container = buildContainer(config, (c) => {
    // Decorates the bus the composition root built, so everything else stays exactly as wired.
    c.onActivation(TOKENS.MessageBus, (_context, bus) => {
      metered = new MeteredMessageBus(bus, latency === undefined ? undefined : (message, deliveredAt) => latency.record(producedAtOf(message.value!), deliveredAt));
      return metered;
    });
    if (job.archive === 'null') c.rebindSync(TOKENS.Archive).toConstantValue({ put: async () => undefined } satisfies OrderArchivePort);
  });
  const pipeline = container.get(TOKENS.ArchivePipeline);
  const archive = container.get(TOKENS.Archive);
  await pipeline.start();
  const bus = metered!;
  // From the start: an open loop's orders arrive while the parent is still sending them.
  const rssSamples: Array<readonly [number, number]> = [];
  const sampling =
    job.rssSampleMs === undefined
      ? undefined
      : setInterval(() => {
          if (bus.firstDeliveryAt === undefined) return;
          rssSamples.push([Math.round(performance.now() - bus.firstDeliveryAt) / 1000, Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10]);
        }, job.rssSampleMs);
  notifyParent('ready');

  if (latency !== undefined) latency.from = (await nextFromParent<{ from: number }>('measure')).payload!.from;
  const expectation =
    job.expect === undefined ? (await nextFromParent<{ count: number; lastIntendedAt: number }>('expect')).payload! : { count: job.expect, lastIntendedAt: 0 };
  const deadline = Date.now() + job.timeoutMs;
  const done = (): boolean => (latency === undefined ? bus.acked >= expectation.count : latency.recorded >= expectation.count);
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const cpu = process.cpuUsage(bus.cpuAtFirstDelivery);
  if (sampling !== undefined) clearInterval(sampling);
  notifyParent('done');

  const elapsedS = bus.firstDeliveryAt === undefined ? 0 : (bus.lastAckAt - bus.firstDeliveryAt) / 1000;
  const result: ServiceResult = {
    acked: bus.acked,
    complete: done(),
    elapsedS,
    ordersPerS: elapsedS > 0 ? bus.acked / elapsedS : 0,
    peakRssMb: peakRssMb(),
    cpuS: (cpu.user + cpu.system) / 1e6,
    ...(latency === undefined ? {} : { latencyMs: latency.summary(expectation.count, expectation.lastIntendedAt) }),
    ...(sampling === undefined ? {} : { rssSamples }),
  };
  await pipeline.stop(5_000);
  if (bus.inner instanceof KafkaMessageBus) await bus.inner.close({ deadlineMs: 5_000 });
  if (archive instanceof CosOrderArchive) archive.close();
  return result;
};

run(jobOf<ServiceJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench service: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
