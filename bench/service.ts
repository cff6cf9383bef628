import * as hdr from 'hdr-histogram-js';
import { CosOrderArchive } from '../src/adapters/cos/cos-order-archive';
import { KafkaMessageBus } from '../src/adapters/kafka/kafka-message-bus';
import { InboundMessage } from '../src/application/ports/message-bus.port';
import { OrderArchivePort } from '../src/application/ports/order-archive.port';
import { AppConfig, CosSettings, EMBEDDED_DEFAULTS, KafkaSettings, SinkKind } from '../src/main/config';
import { buildContainer } from '../src/main/container';
import { TOKENS } from '../src/main/di-tokens';
import { finish, jobOf, nextFromParent, notifyParent, peakRssMb } from './child';
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

export interface LatencySummary {
  readonly count: number;
  /** Orders still unacked at the deadline; recorded at their age then, a lower bound of their latency. */
  readonly unfinished: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /**
   * The worst latency (ms) of the orders intended in each second of the measured window, second 0
   * first: a stall shows as a spike that falls by a second per second, a queue as a climb.
   */
  readonly worstBySecondMs?: readonly number[];
  /**
   * The first part of the same latency: intended send time to the moment the bus handed the order
   * to the service (the producer's linger, the broker, the fetch). The rest is the service's own
   * (the archive write until its ack). Percentiles of the two parts do not add up to the whole's.
   */
  readonly toDeliveryMs?: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
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

const microseconds = () =>
  hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, autoResize: true, useWebAssembly: false });

/** Latency in microseconds from an order's intended send time to its ack, for the open-loop scenario. */
class AckLatency {
  recorded = 0;
  /** Orders intended before this instant are the warm-up; nothing is recorded until it is set. */
  from = Number.POSITIVE_INFINITY;
  private readonly worstBySecond: number[] = [];
  private readonly histogram = microseconds();
  private readonly toDelivery = microseconds();

  record(message: InboundMessage, deliveredAt: number): void {
    const ackedAt = performance.timeOrigin + performance.now();
    const intended = Date.parse((JSON.parse(message.value!.toString()) as { produced_at: string }).produced_at);
    if (intended < this.from) return;
    this.recorded++;
    const latencyMs = ackedAt - intended;
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
    this.toDelivery.recordValue(Math.max(1, Math.round((deliveredAt - intended) * 1000)));
    const second = Math.floor((intended - this.from) / 1000);
    this.worstBySecond[second] = Math.max(this.worstBySecond[second] ?? 0, latencyMs);
  }

  /** Orders never acked count at the age they had reached: leaving them out would flatter the tail. */
  summary(expected: number, lastIntendedAt: number): LatencySummary {
    const unfinished = Math.max(0, expected - this.recorded);
    if (unfinished > 0) this.histogram.recordValueWithCount(Math.round((Date.now() - lastIntendedAt) * 1000), unfinished);
    const ms = (us: number): number => Math.round(us / 100) / 10;
    return {
      count: this.histogram.totalCount,
      unfinished,
      p50: ms(this.histogram.getValueAtPercentile(50)),
      p90: ms(this.histogram.getValueAtPercentile(90)),
      p99: ms(this.histogram.getValueAtPercentile(99)),
      p999: ms(this.histogram.getValueAtPercentile(99.9)),
      max: ms(this.histogram.maxValue),
      // Seconds with nothing acked (all unfinished, or a rate under 1/s) read 0.
      worstBySecondMs: Array.from(this.worstBySecond, (worst) => Math.round((worst ?? 0) * 10) / 10),
      toDeliveryMs: {
        p50: ms(this.toDelivery.getValueAtPercentile(50)),
        p99: ms(this.toDelivery.getValueAtPercentile(99)),
        p999: ms(this.toDelivery.getValueAtPercentile(99.9)),
        max: ms(this.toDelivery.maxValue),
      },
    };
  }
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
      metered = new MeteredMessageBus(bus, latency === undefined ? undefined : (message, deliveredAt) => latency.record(message, deliveredAt));
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
