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

  it('counts dead letters by code, retries, dead-letter failures and duplicates', async () => {
    const { metrics } = aPrometheusMetrics();
    metrics.orderDeadLettered('ORDER.UNKNOWN_CHANNEL');
    metrics.orderDeadLettered('ORDER.UNKNOWN_CHANNEL');
    metrics.orderDeadLettered('MESSAGE.INVALID_JSON');
    metrics.archiveRetried();
    metrics.archiveRetried();
    metrics.archiveRetried();
    metrics.deadLetterFailed();
    metrics.orderDuplicate();

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_orders_dead_lettered_total{code="ORDER.UNKNOWN_CHANNEL"}')).toBe(2);
    expect(sampleOf(text, 'orderflow_orders_dead_lettered_total{code="MESSAGE.INVALID_JSON"}')).toBe(1);
    expect(sampleOf(text, 'orderflow_archive_retries_total')).toBe(3);
    expect(sampleOf(text, 'orderflow_dead_letter_failures_total')).toBe(1);
    expect(sampleOf(text, 'orderflow_orders_duplicate_total')).toBe(1);
  });

  it('exposes unlabelled counters at zero before anything happens, so rate() has a starting point', async () => {
    const text = await aPrometheusMetrics().metrics.metrics();
    expect(sampleOf(text, 'orderflow_archive_retries_total')).toBe(0);
    expect(sampleOf(text, 'orderflow_dead_letter_failures_total')).toBe(0);
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

  it('reports the archive up until a write fails, and up again after the next success', async () => {
    const { metrics } = aPrometheusMetrics();
    expect(sampleOf(await metrics.metrics(), 'orderflow_archive_up')).toBe(1);
    metrics.archiveHealthy(false);
    expect(sampleOf(await metrics.metrics(), 'orderflow_archive_up')).toBe(0);
    metrics.archiveHealthy(true);
    expect(sampleOf(await metrics.metrics(), 'orderflow_archive_up')).toBe(1);
  });

  it('reports the dead-letter topic up until a write fails, and up again after the next success', async () => {
    const { metrics } = aPrometheusMetrics();
    expect(sampleOf(await metrics.metrics(), 'orderflow_dead_letter_up')).toBe(1);
    expect(metrics.deadLetterWritesHealthy).toBe(true);
    metrics.deadLetterHealthy(false);
    expect(sampleOf(await metrics.metrics(), 'orderflow_dead_letter_up')).toBe(0);
    expect(metrics.deadLetterWritesHealthy).toBe(false);
    metrics.deadLetterHealthy(true);
    expect(metrics.deadLetterWritesHealthy).toBe(true);
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
    metrics.archiveRetried();

    const text = await metrics.metrics();
    expect(sampleOf(text, 'orderflow_throughput_orders_per_second')).toBe(3);
    expect(sampleOf(text, 'orderflow_archive_retries_total')).toBe(1);
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
    first.archiveRetried();

    expect(sampleOf(await first.metrics(), 'orderflow_archive_retries_total')).toBe(1);
    expect(sampleOf(await second.metrics(), 'orderflow_archive_retries_total')).toBe(0);
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
