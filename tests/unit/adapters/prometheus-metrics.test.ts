import { register as globalRegistry } from 'prom-client';
import {
  ConsumerLag,
  OVERFLOW_LABEL,
  PrometheusMetrics,
  PrometheusMetricsDeps,
  PrometheusMetricsOptions,
} from '../../../src/adapters/prometheus/prometheus-metrics';
import { LoggerSpy } from '../../support/logger-spy';


const aPrometheusMetrics = (deps: Partial<PrometheusMetricsDeps> = {}, options: PrometheusMetricsOptions = {}) => {
  const logger = new LoggerSpy();
  const metrics = new PrometheusMetrics({ logger, throughput: () => 0, ...deps }, options);
  return { metrics, logger };
};

/** One sample's value from the exposition text, e.g. sampleOf(text, 'orderflow_archive_up'). */
const sampleOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('PrometheusMetrics', () => {
  it('counts archived and high-risk orders by channel', async () => {
    const { metrics } = aPrometheusMetrics();
    metrics.orderArchived('web', 10, false);
    metrics.orderArchived('web', 10, true);
    metrics.orderArchived('partner', 10, true);

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_orders_archived_total{channel="web"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_orders_archived_total{channel="partner"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_orders_high_risk_total{channel="web"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_orders_high_risk_total{channel="partner"}')).toBe(1);
  });

  it('adds the orders archived between scrapes to what earlier scrapes reported, never counting one twice', async () => {
    const { metrics } = aPrometheusMetrics();
    metrics.orderArchived('web', 10, true);
    const first = await metrics.metrics();
    expect(sampleOf(first, 'orderflow_orders_archived_total{channel="web"}')).toBe(1);
    // No high-risk order on this channel yet: no series, as a counter that was never incremented.
    metrics.orderArchived('store', 10, false);
    const second = await metrics.metrics();
    expect(sampleOf(second, 'orderflow_orders_archived_total{channel="web"}')).toBe(1);
    expect(sampleOf(second, 'orderflow_orders_archived_total{channel="store"}')).toBe(1);
    expect(sampleOf(second, 'orderflow_orders_high_risk_total{channel="store"}')).toBeUndefined();
    metrics.orderArchived('web', 10, true);
    metrics.orderArchived('web', 10, false);
    const third = await metrics.metrics();
    expect(sampleOf(third, 'orderflow_orders_archived_total{channel="web"}')).toBe(3);
    expect(sampleOf(third, 'orderflow_orders_high_risk_total{channel="web"}')).toBe(2);
  });

  it("counts every stage's consumed, emitted, dead-lettered, retried and failed writes under its name, and duplicates", async () => {
    const { metrics } = aPrometheusMetrics();
    metrics.stageConsumed('payment', 5);
    metrics.stageEmitted('payment', 'payments.processed', 4);
    metrics.stageEmitted('payment', 'payments.failed', 1);
    metrics.stageDeadLettered('archive', 'ORDER.UNKNOWN_CHANNEL');
    metrics.stageDeadLettered('archive', 'ORDER.UNKNOWN_CHANNEL');
    metrics.stageDeadLettered('validation', 'MESSAGE.INVALID_JSON');
    metrics.stageRetried('archive', 'handle');
    metrics.stageRetried('archive', 'handle');
    metrics.stageRetried('payment', 'publish');
    metrics.stageDeadLetterFailed('archive');
    metrics.orderDuplicate();

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_stage_consumed_total{stage="payment"}')).toBe(5);
    expect(sampleOf(text, 'orderflow_stage_emitted_total{stage="payment",topic="payments.processed"}')).toBe(4);
    expect(sampleOf(text, 'orderflow_stage_emitted_total{stage="payment",topic="payments.failed"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_stage_dead_lettered_total{stage="archive",code="ORDER.UNKNOWN_CHANNEL"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_stage_dead_lettered_total{stage="validation",code="MESSAGE.INVALID_JSON"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_stage_retries_total{stage="archive",target="handle"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_stage_retries_total{stage="payment",target="publish"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_stage_dead_letter_failures_total{stage="archive"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_orders_duplicate_total')).toBe(1);
  });

  it('exposes unlabelled counters at zero before anything happens, so rate() has a starting point', async () => {
    const text = await aPrometheusMetrics().metrics.metrics();
    expect(sampleOf(text, 'orderflow_orders_duplicate_total')).toBe(0);
  });

  it('records latency in seconds, clamping a negative (clock-skewed) latency to zero', async () => {
    const { metrics } = aPrometheusMetrics();
    metrics.orderArchived('web', 120, false);
    metrics.orderArchived('web', 90_000, false);
    metrics.orderArchived('web', -5, false);

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_order_latency_seconds_bucket{le="0.005"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_order_latency_seconds_bucket{le="0.25"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_order_latency_seconds_bucket{le="60"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_order_latency_seconds_bucket{le="120"}')).toBe(3);
    expect(sampleOf(text, 'orderflow_order_latency_seconds_count')).toBe(3);
    expect(sampleOf(text, 'orderflow_order_latency_seconds_sum')).toBeCloseTo(90.12);
  });

  it("reports a stage's target down after a failed write and up again after the next success, and lists what is failing", async () => {
    const { metrics } = aPrometheusMetrics();
    expect(metrics.failing).toEqual([]);
    metrics.stageTargetHealthy('archive', 'handle', false);
    metrics.stageTargetHealthy('payment', 'dead-letter', false);
    expect(sampleOf(await metrics.metrics(), 'orderflow_stage_target_up{stage="archive",target="handle"}')).toBe(0);
    expect(metrics.failing).toEqual(['archive/handle', 'payment/dead-letter']);
    metrics.stageTargetHealthy('archive', 'handle', true);
    expect(sampleOf(await metrics.metrics(), 'orderflow_stage_target_up{stage="archive",target="handle"}')).toBe(1);
    expect(metrics.failing).toEqual(['payment/dead-letter']);
  });

  it('reads the throughput at scrape time', async () => {
    let rate = 2.5;
    const { metrics } = aPrometheusMetrics({ throughput: () => rate });
    expect(sampleOf(await metrics.metrics(), 'orderflow_throughput_orders_per_second')).toBe(2.5);
    rate = 4;
    expect(sampleOf(await metrics.metrics(), 'orderflow_throughput_orders_per_second')).toBe(4);
  });

  it('keeps the last throughput and still scrapes when the throughput source throws', async () => {
    let failing = false;
    const { metrics, logger } = aPrometheusMetrics({
      throughput: () => {
        if (failing) throw new Error('statistics unavailable');
        return 3;
      },
    });
    await metrics.metrics();
    failing = true;
    metrics.stageRetried('archive', 'handle');

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_throughput_orders_per_second')).toBe(3);
    expect(sampleOf(text, 'orderflow_stage_retries_total{stage="archive",target="handle"}')).toBe(1);
    expect(logger.messages('warn')).toEqual(['Throughput unavailable; keeping its last value']);
  });

  describe('consumer lag', () => {
    const lag = (partition: number, value: number): ConsumerLag => ({ topic: 'orders.v1', partition, lag: value });

    it('is fetched at scrape time, by topic and partition', async () => {
      const { metrics } = aPrometheusMetrics({ consumerLag: async () => [lag(0, 12), lag(1, 0)] });
      const text = await metrics.metrics();
      expect(sampleOf(text, 'orderflow_consumer_lag{topic="orders.v1",partition="0"}')).toBe(12);
      expect(sampleOf(text, 'orderflow_consumer_lag{topic="orders.v1",partition="1"}')).toBe(0);
    });

    it('keeps the last values, and the rest of the scrape, when the provider fails', async () => {
      let fail = false;
      const { metrics, logger } = aPrometheusMetrics({
        consumerLag: async () => {
          if (fail) throw new Error('broker unreachable');
          return [lag(0, 7)];
        },
      });
      await metrics.metrics();
      fail = true;
      metrics.orderArchived('web', 10, false);

      const text = await metrics.metrics();
      expect(sampleOf(text, 'orderflow_consumer_lag{topic="orders.v1",partition="0"}')).toBe(7);
      expect(sampleOf(text, 'orderflow_orders_archived_total{channel="web"}')).toBe(1);
      expect(logger.messages('warn')).toEqual(['Consumer lag unavailable; keeping the last values']);
    });

    it('gives up on a provider that hangs rather than hanging the scrape', async () => {
      let hang = false;
      const { metrics, logger } = aPrometheusMetrics(
        { consumerLag: () => (hang ? new Promise<never>(() => {}) : Promise.resolve([lag(0, 5)])) },
        { lagTimeoutMs: 20 },
      );
      await metrics.metrics();
      hang = true;

      expect(sampleOf(await metrics.metrics(), 'orderflow_consumer_lag{topic="orders.v1",partition="0"}')).toBe(5);
      expect(logger.messages('warn')).toHaveLength(1);
    });

    it('drops partitions the consumer no longer owns after a rebalance', async () => {
      let assigned = [lag(0, 3), lag(1, 4)];
      const { metrics } = aPrometheusMetrics({ consumerLag: async () => assigned });
      await metrics.metrics();
      assigned = [lag(1, 2)];

      const text = await metrics.metrics();
      expect(sampleOf(text, 'orderflow_consumer_lag{topic="orders.v1",partition="0"}')).toBeUndefined();
      expect(sampleOf(text, 'orderflow_consumer_lag{topic="orders.v1",partition="1"}')).toBe(2);
    });
  });

  it(`caps distinct channel values and folds the rest into "${OVERFLOW_LABEL}", warning once`, async () => {
    const { metrics, logger } = aPrometheusMetrics({}, { maxLabelValues: 3 });
    for (const channel of ['web', 'mobile', 'partner', 'kiosk', 'fax', 'web']) metrics.orderArchived(channel, 10, true);

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_orders_archived_total{channel="web"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_orders_archived_total{channel="mobile"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_orders_archived_total{channel="partner"}')).toBe(1);
    expect(sampleOf(text, `orderflow_orders_archived_total{channel="${OVERFLOW_LABEL}"}`)).toBe(2);
    expect(sampleOf(text, `orderflow_orders_high_risk_total{channel="${OVERFLOW_LABEL}"}`)).toBe(2);
    expect(text).not.toContain('kiosk');
    expect(logger.messages('warn')).toHaveLength(1);
  });

  it('keeps its metrics in its own registry, so instances never collide', async () => {
    const first = aPrometheusMetrics().metrics;
    const second = aPrometheusMetrics().metrics;
    first.orderDuplicate();

    expect(sampleOf(await first.metrics(), 'orderflow_orders_duplicate_total')).toBe(1);
    expect(sampleOf(await second.metrics(), 'orderflow_orders_duplicate_total')).toBe(0);
    expect(await globalRegistry.metrics()).not.toContain('orderflow_');
  });

  it('adds the Node.js process metrics only when asked', async () => {
    expect(await aPrometheusMetrics().metrics.metrics()).not.toContain('process_cpu_user_seconds_total');
    expect(await aPrometheusMetrics({}, { defaultMetrics: true }).metrics.metrics()).toContain(
      'process_cpu_user_seconds_total',
    );
  });

  it('declares the Prometheus text format', () => {
    expect(aPrometheusMetrics().metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
