import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { InMemoryMessageBus } from '../adapters/memory/in-memory-message-bus';
import { OrderGenerator, seededRandom } from '../application/order-generator';
import { StatisticsSnapshot } from '../application/order-statistics';
import { OutboundMessage } from '../application/ports/message-bus.port';
import { createOrder } from '../domain/order';
import { AppConfig, EMBEDDED_DEFAULTS } from './config';
import { buildContainer } from './container';
import { TOKENS } from './di-tokens';

export interface DemoOptions {
  readonly orders: number;
  /** Share of deliberately malformed messages, to show the dead-letter path. */
  readonly badRatio: number;
  readonly dataDir: string;
  /** Seeds the generator and names the orders: the same seed gives the same ids, so a rerun rewrites the same files. */
  readonly seed: number;
  /** Delete the archive's prefix under dataDir (and nothing else there) before the run. */
  readonly clean?: boolean;
  readonly progress: (line: string, final: boolean) => void;
}

export interface DemoSummary {
  readonly sent: number;
  readonly malformedSent: number;
  readonly dlqRecords: number;
  readonly elapsedMs: number;
  readonly statistics: StatisticsSnapshot;
  readonly config: AppConfig;
}

/** Hostile and broken messages the demo mixes in; each must end up on the DLQ with its reason. */
const MALFORMED: readonly ((i: number) => OutboundMessage)[] = [
  (i) => wire(`bad-${i}`, { id: `bad-${i}`, customer: 'C-1', total: 10, channel: 'fax' }),
  (i) => wire(`bad-${i}`, { id: `bad-${i}`, customer: 'C-1', total: -5, channel: 'web' }),
  (i) => wire(`bad-${i}`, { id: '../../etc/passwd', customer: 'C-1', total: 10, channel: 'web' }),
  (i) => wire(`bad-${i}`, { id: `bad-${i}`, customer: 'C-1', total: 'abc', channel: 'web' }),
  (i) => ({ key: `bad-${i}`, value: Buffer.from('{"id": "truncated', 'utf8') }),
];

const wire = (key: string, body: unknown): OutboundMessage => ({ key, value: Buffer.from(JSON.stringify(body)) });

/**
 * The main job on the embedded default: generated orders go through the real use case on the
 * in-memory bus and land in a filesystem archive under Hive keys. Producing and consuming run
 * concurrently, so the latency figures are those of a live pipeline, not of a drained backlog.
 */
export const runDemo = async (options: DemoOptions): Promise<DemoSummary> => {
  const config: AppConfig = { ...EMBEDDED_DEFAULTS, dataDir: options.dataDir, logLevel: 'error' };
  if (options.clean === true) await removeArchive(config);
  const container = buildContainer(config);
  const bus = container.get(TOKENS.MessageBus) as InMemoryMessageBus;
  const encoder = container.get(TOKENS.OrderEncoder);
  const statistics = container.get(TOKENS.Statistics);
  const pipeline = container.get(TOKENS.ArchivePipeline);

  const generator = new OrderGenerator({ seed: options.seed, runId: `s${options.seed}` });
  const random = seededRandom(options.seed + 1);
  const started = Date.now();
  await pipeline.start();

  let sent = 0;
  let malformedSent = 0;
  const report = (final: boolean): void => {
    const snapshot = statistics.snapshot(Date.now());
    const done = snapshot.archived + snapshot.deadLettered;
    const seconds = (Date.now() - started) / 1000;
    options.progress(
      `  ${done.toLocaleString('en-US')} / ${options.orders.toLocaleString('en-US')} processed ` +
        `(${Math.round(done / Math.max(seconds, 0.001)).toLocaleString('en-US')} orders/s)`,
      final,
    );
  };
  const ticker = setInterval(() => report(false), 250);

  const batchSize = 500;
  while (sent < options.orders) {
    const batch: OutboundMessage[] = [];
    for (let i = 0; i < batchSize && sent < options.orders; i++, sent++) {
      if (random() < options.badRatio) {
        batch.push(MALFORMED[malformedSent % MALFORMED.length]!(malformedSent));
        malformedSent++;
        continue;
      }
      const order = createOrder(generator.next());
      if (!order.ok) throw new Error(`The generator made an invalid order: ${order.error.message}`);
      batch.push({ key: order.value.id, value: encoder.encode(order.value) });
    }
    await bus.publish(config.ordersTopic, batch);
    // Yield so the consumer runs alongside the producer.
    await new Promise((resolve) => setImmediate(resolve));
  }

  await bus.caughtUp(config.consumerGroup, config.ordersTopic, 10 * 60_000);
  await pipeline.stop();
  clearInterval(ticker);
  report(true);
  const elapsedMs = Date.now() - started;
  return {
    sent,
    malformedSent,
    dlqRecords: bus.records(config.dlqTopic).length,
    elapsedMs,
    statistics: statistics.snapshot(Date.now()),
    config,
  };
};

/**
 * Only `<dataDir>/<prefix>`, the demo's own output: whatever else a user keeps in the data
 * directory stays. A prefix is validated path segments, so this never points outside dataDir;
 * rm does not follow symbolic links inside it.
 */
const removeArchive = async (config: AppConfig): Promise<void> => {
  const root = path.resolve(config.dataDir);
  const archive = path.resolve(root, ...config.archivePrefix.split('/'));
  if (!archive.startsWith(root + path.sep)) throw new Error(`Refusing to clean ${archive}: it is not inside ${root}`);
  await rm(archive, { recursive: true, force: true });
};

const n = (value: number): string => value.toLocaleString('en-US');

export const formatSummary = (summary: DemoSummary): string => {
  const { statistics: s, config } = summary;
  const seconds = summary.elapsedMs / 1000;
  const lines = [
    '',
    `orderflow demo — ${n(summary.sent)} messages (${n(summary.malformedSent)} deliberately malformed) on the in-memory bus`,
    '',
    `  archived        ${n(s.archived)} orders under ${config.dataDir}/${config.archivePrefix}/dt=…/orderId=….json`,
    `  rejected        ${n(s.deadLettered)} messages, by reason:`,
    ...Object.entries(s.deadLetteredByCode).map(([code, count]) => `                    ${code.padEnd(26)} ${n(count ?? 0)}`),
    `  dead-lettered   ${n(summary.dlqRecords)} records on ${config.dlqTopic} (counted on the topic itself)`,
    `  throughput      ${n(Math.round((s.archived + s.deadLettered) / seconds))} orders/s over ${seconds.toFixed(2)} s` +
      ` (sliding 30 s window: ${n(Math.round(s.throughputPerSecond))}/s)`,
    `  latency         p50 ${s.latencyMs.p50} ms · p99 ${s.latencyMs.p99} ms · max ${s.latencyMs.max} ms (produced_at → archived)`,
    '  top 5 orders by total',
    ...s.topOrders
      .slice(0, 5)
      .map((o, i) => `    ${i + 1}. ${o.id.padEnd(24)} ${o.channel.padEnd(8)} ${o.total.toFixed(2).padStart(10)}  risk ${o.risk_score.toFixed(2)}`),
    '  risk by channel',
    ...Object.entries(s.channels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([channel, r]) =>
          `    ${channel.padEnd(8)} ${n(r.orders).padStart(7)} orders · ${n(r.highRisk).padStart(6)} high risk (total >= 500)` +
          ` · mean score ${(r.riskScoreSum / Math.max(1, r.orders)).toFixed(3)}`,
      ),
    '',
  ];
  return lines.join('\n');
};
