import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { InMemoryMessageBus } from '../adapters/memory/in-memory-message-bus';
import { InMemoryMetrics, StageCounts } from '../adapters/memory/in-memory-metrics';
import { STAGE_NAMES, StageName } from '../application/stages/stage-names';
import { RunningStage } from '../application/stages/stage-runner';
import { OrderFields } from '../domain/order';
import { OrderGenerator, seededRandom } from '../application/order-generator';
import { StatisticsSnapshot } from '../application/order-statistics';
import { OutboundMessage } from '../application/ports/message-bus.port';
import { createOrder } from '../domain/order';
import { inputTopicsOf, Stage } from '../application/stages/stage';
import { AppConfig, EMBEDDED_DEFAULTS } from './config';
import { buildContainer } from './container';
import { TOKENS } from './di-tokens';
import { stageTopicSpecs } from './stage-topics';
import { DEFAULT_LIFECYCLE_CONFIG } from './lifecycle-config';

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

/** One stage's figures in the demo's summary. */
export interface StageSummary {
  readonly stage: StageName;
  readonly consumed: number;
  readonly emitted: ReadonlyMap<string, number>;
  readonly deadLettered: number;
  readonly retried: number;
}

/** Where each order ended, read off the lifecycle's topics (an order without a final event: none). */
export type FinalStatus = 'shipped' | 'rejected' | 'payment_failed' | 'out_of_stock' | 'dead-lettered';

export interface DemoSummary {
  readonly stages: readonly StageSummary[];
  readonly finalStatuses: Readonly<Record<FinalStatus, number>>;
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
  const config: AppConfig = {
    ...EMBEDDED_DEFAULTS,
    dataDir: options.dataDir,
    logLevel: 'error',
    // The generator's totals stay under the default limit (5,000); a lower one shows declines too.
    lifecycle: { ...DEFAULT_LIFECYCLE_CONFIG, payment: { ...DEFAULT_LIFECYCLE_CONFIG.payment, limit: 4_500 } },
  };
  if (options.clean === true) await removeArchive(config);
  const metrics = new InMemoryMetrics();
  // The summary reads the stages' figures in memory; nothing serves /metrics here.
  const container = buildContainer(config, (c) => c.rebindSync(TOKENS.Metrics).toConstantValue(metrics));
  const bus = container.get(TOKENS.MessageBus) as InMemoryMessageBus;
  const encoder = container.get(TOKENS.OrderEncoder);
  const statistics = container.get(TOKENS.Statistics);
  const runner = container.get(TOKENS.StageRunner);
  const runOptionsFor = container.get(TOKENS.StageRunOptions);
  const stages = container.get(TOKENS.Stages);
  const topics = container.get(TOKENS.LifecycleTopics);
  await container.get(TOKENS.Inventory).seedMissing(DEMO_STOCK);
  await bus.ensureTopics(stageTopicSpecs(config, STAGE_NAMES.map((name) => stages[name]), container));

  const generator = new OrderGenerator({ seed: options.seed, runId: `s${options.seed}` });
  const random = seededRandom(options.seed + 1);
  const started = Date.now();
  const running: RunningStage[] = [];
  for (const name of STAGE_NAMES) running.push(await runner.run(stages[name], runOptionsFor(stages[name])));

  let sent = 0;
  let malformedSent = 0;
  const report = (final: boolean): void => {
    const snapshot = statistics.snapshot(Date.now());
    const done = snapshot.archived + snapshot.deadLettered;
    const seconds = (Date.now() - started) / 1000;
    options.progress(
      `  ${done.toLocaleString('en-US')} / ${options.orders.toLocaleString('en-US')} archived or dead-lettered ` +
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
      const order = createOrder(withItems(generator.next(), random));
      if (!order.ok) throw new Error(`The generator made an invalid order: ${order.error.message}`);
      batch.push({ key: order.value.id, value: encoder.encode(order.value) });
    }
    await bus.publish(config.ordersTopic, batch);
    // Yield so the consumer runs alongside the producer.
    await new Promise((resolve) => setImmediate(resolve));
  }

  // Every stage's inputs, in the lifecycle's order (twice: validation reads its own re-keyed topic).
  for (let pass = 0; pass < 2; pass++) {
    for (const name of STAGE_NAMES) {
      const stage = stages[name];
      const groupId = runOptionsFor(stage).groupId;
      for (const topic of inputTopicsOf(stage)) await bus.caughtUp(groupId(topic), topic, 10 * 60_000);
    }
  }
  await Promise.all(running.map((stage) => stage.stop()));
  clearInterval(ticker);
  report(true);
  const elapsedMs = Date.now() - started;
  const orderIds = (topic: string): number => bus.records(topic).length;
  return {
    stages: STAGE_NAMES.map((stage) => ({ stage, ...countsOf(metrics.stages.get(stage)) })),
    finalStatuses: {
      shipped: orderIds(topics.shipmentsCreated),
      rejected: orderIds(topics.ordersRejected),
      payment_failed: orderIds(topics.paymentsFailed),
      out_of_stock: orderIds(topics.inventoryInsufficient),
      'dead-lettered': bus.records(config.dlqTopic).filter((r) => r.headers.some((h) => h.key === 'orderflow.stage' && h.value.toString() === 'validation')).length,
    },
    sent,
    malformedSent,
    dlqRecords: bus.records(config.dlqTopic).length,
    elapsedMs,
    statistics: statistics.snapshot(Date.now()),
    config,
  };
};

/** What the demo's warehouse holds at the start: enough for most itemised orders, not for all. */
const DEMO_STOCK: ReadonlyMap<string, number> = new Map([
  ['APPLE', 6_000],
  ['MILK', 4_000],
  ['BREAD', 3_000],
  ['COFFEE', 1_500],
  ['SAFFRON', 20],
]);
const SKUS = [...DEMO_STOCK.keys()];

/** Two orders in five carry lines that add up to their total, so the warehouse has something to pick. */
const withItems = (fields: OrderFields, random: () => number): OrderFields => {
  if (random() >= 0.4) return fields;
  const quantity = 1 + Math.floor(random() * 3);
  const unitPrice = Math.max(0.01, Math.round((fields.total / quantity) * 100) / 100);
  const sku = SKUS[Math.floor(random() * SKUS.length)]!;
  return { ...fields, total: Math.round(quantity * unitPrice * 100) / 100, items: [{ sku, quantity, unitPrice }] };
};

const countsOf = (counts: StageCounts | undefined): Omit<StageSummary, 'stage'> => ({
  consumed: counts?.consumed ?? 0,
  emitted: counts?.emitted ?? new Map(),
  deadLettered: counts?.deadLettered ?? 0,
  retried: counts?.retried ?? 0,
});

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
    '  lifecycle, by stage (in: inputs settled; out: events published, by topic)',
    ...summary.stages.map(
      (st) =>
        `    ${st.stage.padEnd(13)} in ${n(st.consumed).padStart(7)} · dead-lettered ${n(st.deadLettered).padStart(5)} · retried ${n(st.retried).padStart(4)}` +
        (st.emitted.size === 0 ? '' : ` · out ${[...st.emitted].map(([topic, count]) => `${topic} ${n(count)}`).join(', ')}`),
    ),
    '  orders by final status',
    ...Object.entries(summary.finalStatuses).map(([status, count]) => `    ${status.padEnd(15)} ${n(count).padStart(7)}`),
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
