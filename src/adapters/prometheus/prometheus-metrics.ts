import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LoggerPort } from '../../application/ports/logger.port';
import { HttpMetricsPort } from '../../application/ports/http-metrics.port';
import { MetricsPort } from '../../application/ports/metrics.port';
import { StageMetricsPort, StageTarget } from '../../application/ports/stage-metrics.port';
import { RejectionCode } from '../../domain/rejection';

export interface ConsumerLag {
  readonly topic: string;
  readonly partition: number;
  /** Messages between the group's committed offset and the partition's end. */
  readonly lag: number;
}

export interface PrometheusMetricsDeps {
  readonly logger: LoggerPort;
  /** Orders per second over the statistics' sliding window (30 s), read at every scrape. */
  readonly throughput: () => number;
  /** Lag of the partitions assigned to this consumer, fetched at every scrape. Omit when the bus has none to report. */
  readonly consumerLag?: () => Promise<readonly ConsumerLag[]>;
}

export interface PrometheusMetricsOptions {
  /** Also expose the Node.js process metrics (CPU, memory, event loop, GC). Default false. */
  readonly defaultMetrics?: boolean;
  /** Distinct values a label may take before the rest fold into `other`. Default 50. */
  readonly maxLabelValues?: number;
  /** How long a scrape waits for the lag provider before keeping the last values. Default 2000 ms. */
  readonly lagTimeoutMs?: number;
}

/** Label value that absorbs everything past the cardinality cap. */
export const OVERFLOW_LABEL = 'other';

/**
 * From produced_at to archived: milliseconds when the pipeline keeps up, minutes when it
 * catches up on a backlog. The upper buckets are what a lag alert is written against.
 */
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The pipeline's metrics in Prometheus form. Each instance has its own registry, so two
 * instances (or two tests) never collide over metric names in prom-client's global one.
 *
 * Gauges that describe the outside world (throughput, consumer lag) are read at scrape time
 * rather than pushed, so they are never staler than the scrape that reports them.
 */
export class PrometheusMetrics implements MetricsPort, StageMetricsPort, HttpMetricsPort {
  private readonly registry = new Registry();
  private readonly channels: BoundedLabelValues;
  private readonly lagTimeoutMs: number;

  private readonly archived: Counter<'channel'>;
  private readonly highRisk: Counter<'channel'>;
  private readonly duplicates: Counter;
  private readonly latency: Histogram;
  private readonly consumed: Counter<'stage'>;
  private readonly emitted: Counter<'stage' | 'topic'>;
  private readonly deadLettered: Counter<'stage' | 'code'>;
  private readonly retries: Counter<'stage' | 'target'>;
  private readonly deadLetterFailures: Counter<'stage'>;
  private readonly targetUp: Gauge<'stage' | 'target'>;
  private readonly throughput: Gauge;
  private readonly consumerLag: Gauge<'topic' | 'partition'>;
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  /** `<stage>/<target>` of every target whose last write failed. */
  private readonly failingTargets = new Set<string>();
  /**
   * Archived orders not yet added to the two channel counters, by label. Every archived order
   * passes here: a Map update costs a tenth of prom-client's two label hashes and validations
   * (adr/0020), and the counters take the sums at every scrape (their `collect`), so a scrape
   * never reports less than what was archived before it.
   */
  private readonly unfolded = new Map<string, { orders: number; highRisk: number }>();

  constructor(
    private readonly deps: PrometheusMetricsDeps,
    options: PrometheusMetricsOptions = {},
  ) {
    const registers = [this.registry];
    this.channels = new BoundedLabelValues('channel', options.maxLabelValues ?? 50, deps.logger);
    this.lagTimeoutMs = options.lagTimeoutMs ?? 2_000;

    this.archived = new Counter({
      name: 'orderflow_orders_archived_total',
      help: 'Orders written to the archive, by channel.',
      labelNames: ['channel'],
      registers,
      collect: () => this.foldArchived(),
    });
    this.highRisk = new Counter({
      name: 'orderflow_orders_high_risk_total',
      help: 'Archived orders flagged high risk, by channel.',
      labelNames: ['channel'],
      registers,
      collect: () => this.foldArchived(),
    });
    this.duplicates = new Counter({
      name: 'orderflow_orders_duplicate_total',
      help: 'Orders archived again under a key this process had already written (redeliveries; rewrites from before a restart are not seen).',
      registers,
    });
    this.latency = new Histogram({
      name: 'orderflow_order_latency_seconds',
      help: 'Time from an order being produced to it being archived.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    // Stage names are the code's own (a handful); codes a closed union; topics the stages' outputs:
    // none of these labels can grow with the data.
    this.consumed = new Counter({
      name: 'orderflow_stage_consumed_total',
      help: 'Input messages a stage settled and acked (handled, or dead-lettered), by stage.',
      labelNames: ['stage'],
      registers,
    });
    this.emitted = new Counter({
      name: 'orderflow_stage_emitted_total',
      help: 'Events a stage published, by stage and topic.',
      labelNames: ['stage', 'topic'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'orderflow_stage_dead_lettered_total',
      help: 'Messages a stage sent to its dead-letter topic, by stage and rejection code.',
      labelNames: ['stage', 'code'],
      registers,
    });
    this.retries = new Counter({
      name: 'orderflow_stage_retries_total',
      help: "Writes tried again after a failure, by stage and target (handle: the stage's own effect, publish, dead-letter).",
      labelNames: ['stage', 'target'],
      registers,
    });
    this.deadLetterFailures = new Counter({
      name: 'orderflow_stage_dead_letter_failures_total',
      help: 'Failed writes to a dead-letter topic, by stage.',
      labelNames: ['stage'],
      registers,
    });
    // Up until a write says otherwise: an idle stage has no evidence of an outage, and starting at
    // 0 would page someone at every deploy. A series appears with the first write that fails.
    this.targetUp = new Gauge({
      name: 'orderflow_stage_target_up',
      help: "1 while a stage's writes to a target succeed, 0 after a failed write until the next success.",
      labelNames: ['stage', 'target'],
      registers,
    });
    this.throughput = new Gauge({
      name: 'orderflow_throughput_orders_per_second',
      help: 'Orders archived per second over the last 30 s.',
      registers,
      collect: () => this.collectThroughput(),
    });
    this.consumerLag = new Gauge({
      name: 'orderflow_consumer_lag',
      help: 'Messages not yet consumed, by topic and partition.',
      labelNames: ['topic', 'partition'],
      registers,
      collect: () => this.collectConsumerLag(),
    });

    // Labelled by route template (`/orders/:id`), never the raw path: one series per route, not per order.
    this.httpRequests = new Counter({
      name: 'orderflow_http_requests_total',
      help: 'HTTP API requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'orderflow_http_request_duration_seconds',
      help: 'From a request to its answer, by route, method and status; long-polls (?wait=) included.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });

    if (options.defaultMetrics === true) {
      // Unprefixed on purpose: process_* and nodejs_* are the names stock Node.js dashboards and
      // alerts expect; the scrape's job label already says which service they belong to.
      collectDefaultMetrics({ register: this.registry });
    }
  }

  /** The media type of `metrics()`, for the HTTP response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format; runs the scrape-time collectors. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  orderArchived(channel: string, latencyMs: number, highRisk: boolean): void {
    const label = this.channels.labelFor(channel);
    const counts = this.unfolded.get(label);
    if (counts === undefined) this.unfolded.set(label, { orders: 1, highRisk: highRisk ? 1 : 0 });
    else {
      counts.orders++;
      if (highRisk) counts.highRisk++;
    }
    // A negative latency (producer clock ahead) cannot go into a histogram; clamp it at zero,
    // as OrderStatistics does, so both report the same distribution.
    this.latency.observe(Math.max(0, latencyMs) / 1000);
  }

  /** Adds what was archived since the last fold to the counters; both counters' scrapes call it. */
  private foldArchived(): void {
    for (const [channel, counts] of this.unfolded) {
      this.archived.inc({ channel }, counts.orders);
      // As before the fold, a channel's high-risk series appears with its first high-risk order.
      if (counts.highRisk > 0) this.highRisk.inc({ channel }, counts.highRisk);
    }
    this.unfolded.clear();
  }

  orderDuplicate(count = 1): void {
    this.duplicates.inc(count);
  }

  stageConsumed(stage: string, count: number): void {
    this.consumed.inc({ stage }, count);
  }

  stageEmitted(stage: string, topic: string, count: number): void {
    this.emitted.inc({ stage, topic }, count);
  }

  stageDeadLettered(stage: string, code: RejectionCode): void {
    this.deadLettered.inc({ stage, code });
  }

  stageRetried(stage: string, target: StageTarget): void {
    this.retries.inc({ stage, target });
  }

  stageDeadLetterFailed(stage: string): void {
    this.deadLetterFailures.inc({ stage });
  }

  stageTargetHealthy(stage: string, target: StageTarget, healthy: boolean): void {
    this.targetUp.set({ stage, target }, healthy ? 1 : 0);
    if (healthy) this.failingTargets.delete(`${stage}/${target}`);
    else this.failingTargets.add(`${stage}/${target}`);
  }

  httpRequest(route: string, method: string, status: number, durationSeconds: number): void {
    const labels = { route, method, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, durationSeconds);
  }

  /** `<stage>/<target>` of every target whose writes are failing now; readiness reads it so an outage shows at once. */
  get failing(): readonly string[] {
    return [...this.failingTargets];
  }

  private collectThroughput(): void {
    // A throwing collector fails the whole scrape; one stale gauge is the lesser harm.
    try {
      this.throughput.set(this.deps.throughput());
    } catch (error) {
      this.deps.logger.warn({ err: describe(error) }, 'Throughput unavailable; keeping its last value');
    }
  }

  private async collectConsumerLag(): Promise<void> {
    const provider = this.deps.consumerLag;
    if (provider === undefined) return;
    let lags: readonly ConsumerLag[];
    try {
      lags = await withTimeout(provider(), this.lagTimeoutMs, 'Consumer lag');
    } catch (error) {
      // The broker being slow or away is exactly when the other metrics matter: keep them
      // scrapeable and leave the last known lag in place.
      this.deps.logger.warn({ err: describe(error) }, 'Consumer lag unavailable; keeping the last values');
      return;
    }
    // Reset first, so partitions revoked in a rebalance stop being reported by this instance.
    this.consumerLag.reset();
    for (const { topic, partition, lag } of lags) {
      this.consumerLag.set({ topic, partition: String(partition) }, lag);
    }
  }
}

/**
 * Every distinct label value is a time series held by this process and by Prometheus. Values
 * are validated upstream (unknown channels are rejected before they reach metrics), so the cap
 * is a guard against a future bug, not a feature: the first `max` values keep their name and
 * the rest share `other`.
 */
class BoundedLabelValues {
  private readonly seen = new Set<string>();
  private warned = false;

  constructor(
    private readonly label: string,
    private readonly max: number,
    private readonly logger: LoggerPort,
  ) {}

  labelFor(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size < this.max) {
      this.seen.add(value);
      return value;
    }
    if (!this.warned) {
      // Once is enough to point at the bug; a warning per order would flood the log.
      this.warned = true;
      this.logger.warn(
        { label: this.label, max: this.max, value },
        `Too many distinct ${this.label} values; folding the rest into "${OVERFLOW_LABEL}"`,
      );
    }
    return OVERFLOW_LABEL;
  }
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/** Adapters that provide lag keep secrets out of their error messages; this passes them on as they are. */
const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
