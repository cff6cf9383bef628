import type { BusFloorLoop, BusFloorResult } from './bus-floor';
import type { CkjsInstall } from './ckjs-install';
import type { ProduceFloorClient, ProduceFloorResult } from './produce-floor';
import type { CpuShares } from './report';
import { cpuUsPerOrder } from './scenarios';

/**
 * Issue 12's Kafka side: kafkajs beside @confluentinc/kafka-javascript (its KafkaJS-compatible API
 * on librdkafka), each as a bare loop that only counts the same pre-filled B2 topic, alternating in
 * rounds, and each as a producer in the pre-fill's pattern. The decision it feeds is adr/0022.
 */
export type ConsumeRound = BusFloorResult & { readonly cpu: CpuShares; readonly round: number };
export type ProduceRun = ProduceFloorResult & { readonly cpu: CpuShares; readonly publishing: object };

export interface KafkaClientsDetails {
  /** Set when the comparison was skipped (the quick run without the install in its cache). */
  readonly notMeasured?: string;
  readonly install?: CkjsInstall;
  readonly consume: readonly ConsumeRound[];
  readonly produce: readonly ProduceRun[];
}

/** "Wins by a wide margin" (the issue, adr/0022): at least this many times fewer CPU µs per message consumed. */
export const WIDE_MARGIN = 2;

const round = (value: number | undefined, digits: number): number | null =>
  value === undefined || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;

const cpuPerMessage = (f: { readonly cpu: CpuShares }, perS: number): number | undefined => cpuUsPerOrder(f.cpu.service, perS);

interface LoopFigure {
  readonly loop: BusFloorLoop;
  readonly messages_per_s: number | null;
  readonly cpu_us_per_message: number | null;
  /** Every round, in run order; the figure is the round with the least CPU per message (the least disturbed). */
  readonly rounds: ReadonlyArray<{ messages_per_s: number | null; cpu_us_per_message: number | null; other_cores: number | null }>;
}

const loopFigure = (rounds: readonly ConsumeRound[], loop: BusFloorLoop): LoopFigure | undefined => {
  const mine = rounds.filter((r) => r.loop === loop);
  if (mine.length === 0) return undefined;
  const cpu = (r: ConsumeRound): number => cpuPerMessage(r, r.ordersPerS) ?? Number.POSITIVE_INFINITY;
  const best = mine.reduce((a, b) => (cpu(b) < cpu(a) ? b : a));
  return {
    loop,
    messages_per_s: round(best.ordersPerS, 0),
    cpu_us_per_message: round(cpu(best), 2),
    rounds: mine.map((r) => ({ messages_per_s: round(r.ordersPerS, 0), cpu_us_per_message: round(cpu(r), 2), other_cores: r.cpu.other ?? null })),
  };
};

const produceFigure = (runs: readonly ProduceRun[], client: ProduceFloorClient) => {
  const run = runs.find((r) => r.client === client);
  if (run === undefined) return undefined;
  return {
    messages: run.sent,
    messages_per_s: round(run.messagesPerS, 0),
    cpu_us_per_message: round(cpuPerMessage(run, run.messagesPerS), 2),
    other_cores: run.cpu.other ?? null,
    peak_rss_mb: round(run.peakRssMb, 0),
  };
};

/** latest.json's `kafka_clients`. */
export const kafkaClientsOf = (d: KafkaClientsDetails | undefined) => {
  if (d === undefined) return undefined;
  if (d.notMeasured !== undefined) return { measured: false as const, reason: d.notMeasured };
  const kafkajs = loopFigure(d.consume, 'kafkajs');
  const batchShapes = (['ckjs-batch-unbounded', 'ckjs-batch'] as const).map((loop) => loopFigure(d.consume, loop)).filter((f) => f !== undefined);
  // The comparison takes ckjs's cheaper eachBatch shape: an adapter would configure the better one.
  const ckjsBatch = batchShapes.reduce<LoopFigure | undefined>(
    (a, b) => (a === undefined || (b.cpu_us_per_message ?? Infinity) < (a.cpu_us_per_message ?? Infinity) ? b : a),
    undefined,
  );
  const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null || b <= 0 ? null : round(a / b, 2));
  const produce = { kafkajs: produceFigure(d.produce, 'kafkajs'), port: produceFigure(d.produce, 'port'), ckjs: produceFigure(d.produce, 'ckjs') };
  const cpuRatio = ratio(kafkajs?.cpu_us_per_message, ckjsBatch?.cpu_us_per_message);
  return {
    measured: true as const,
    messages: d.consume[0]?.consumed ?? null,
    install: d.install === undefined ? null : { version: d.install.version, librdkafka: d.install.librdkafkaVersion, installed_in_this_run: d.install.installedNow, install_s: d.install.installS, built_at: d.install.builtAt },
    kafkajs: { consume_each_batch: kafkajs ?? null, produce: produce.kafkajs ?? null, produce_through_port: produce.port ?? null },
    'confluent-kafka-javascript': {
      consume_each_batch: ckjsBatch ?? null,
      consume_each_batch_default_32: loopFigure(d.consume, 'ckjs-batch') ?? null,
      consume_each_batch_unbounded: loopFigure(d.consume, 'ckjs-batch-unbounded') ?? null,
      consume_each_message: loopFigure(d.consume, 'ckjs-message') ?? null,
      produce: produce.ckjs ?? null,
    },
    /** kafkajs ÷ ckjs for CPU (above 1: ckjs is cheaper), ckjs ÷ kafkajs for rates (above 1: ckjs is faster). */
    ratio: {
      consume_cpu_per_message: cpuRatio,
      consume_rate: ratio(ckjsBatch?.messages_per_s, kafkajs?.messages_per_s),
      produce_cpu_per_message: ratio(produce.kafkajs?.cpu_us_per_message, produce.ckjs?.cpu_us_per_message),
      produce_rate: ratio(produce.ckjs?.messages_per_s, produce.kafkajs?.messages_per_s),
    },
    wide_margin: { cpu_ratio_at_least: WIDE_MARGIN, met: cpuRatio !== null && cpuRatio >= WIDE_MARGIN },
  };
};

const n = (value: number | null | undefined, digits = 0): string =>
  value == null ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** How each bare loop is named in the report (B2's floor and the client comparison). */
export const FLOOR_LOOPS: Record<BusFloorLoop, string> = {
  kafkajs: 'kafkajs `eachBatch`, nothing else (the client alone)',
  'port-batch': 'KafkaMessageBus, a batch handler that only calls `ackThrough(last)`',
  'port-delivery': 'KafkaMessageBus, a per-message handler that only calls `ack()`',
  'ckjs-batch-unbounded': 'confluent-kafka-javascript `eachBatch` with `js.consumer.max.batch.size: -1` (all a partition fetched, as kafkajs hands over)',
  'ckjs-batch': 'confluent-kafka-javascript `eachBatch`, its default of at most 32 messages per call',
  'ckjs-message': 'confluent-kafka-javascript `eachMessage`',
};

/** docs/performance.md's section on the two clients. */
export const kafkaClientsSection = (d: KafkaClientsDetails | undefined): string[] => {
  const k = kafkaClientsOf(d);
  if (k === undefined) return [];
  const lines = ['## Kafka clients: kafkajs beside confluent-kafka-javascript', ''];
  if (!k.measured) return [...lines, `Not measured in this run: ${k.reason}.`, ''];
  const m = k;
  const install = m.install;
  lines.push(
    `The same ${n(m.messages)} pre-filled B2 messages, counted by bare loops that do nothing else, each on a consumer group of its own, the clients alternating in rounds ` +
      '(bench/bus-floor.ts); CPU is the whole process, librdkafka\'s threads included. Each figure is its round with the least CPU per message; every round is in latest.json. ' +
      (install === null
        ? ''
        : `@confluentinc/kafka-javascript ${install.version} (librdkafka ${install.librdkafka}), built from source with \`CKJS_LINKING=dynamic\` by bench/ckjs-install.ts ` +
          (install.installed_in_this_run ? `in this run, in ${n(install.install_s)} s.` : `on ${install.built_at.slice(0, 16).replace('T', ' ')} UTC (${n(install.install_s)} s), found in its cache.`)),
    '',
    '| loop | messages/s | CPU per message | rounds (messages/s · µs · other cores) |',
    '|---|---|---|---|',
  );
  const c = m['confluent-kafka-javascript'];
  for (const f of [m.kafkajs.consume_each_batch, c.consume_each_batch_unbounded, c.consume_each_batch_default_32, c.consume_each_message]) {
    if (f === null) continue;
    const rounds = f.rounds.map((r) => `${n(r.messages_per_s)} · ${n(r.cpu_us_per_message, 2)} · ${n(r.other_cores, 2)}`).join('; ');
    lines.push(`| ${FLOOR_LOOPS[f.loop]} | ${n(f.messages_per_s)} | ${n(f.cpu_us_per_message, 2)} µs | ${rounds} |`);
  }
  lines.push('');
  const p = [
    ['kafkajs 2 producer as the port configures it (idempotent, acks = all), one `send` per chunk', m.kafkajs.produce],
    ['KafkaMessageBus, as the pre-fill publishes (its 2 ms linger buffer over kafkajs)', m.kafkajs.produce_through_port],
    ['confluent-kafka-javascript producer, idempotent, acks = all, `linger.ms` 2, murmur2 partitioner', c.produce],
  ] as const;
  if (p.some(([, f]) => f !== null)) {
    lines.push('| producer (chunks of 2,000, four in flight, as the pre-fill) | messages | messages/s | CPU per message | other work (cores) |', '|---|---|---|---|---|');
    for (const [name, f] of p) if (f !== null) lines.push(`| ${name} | ${n(f.messages)} | ${n(f.messages_per_s)} | ${n(f.cpu_us_per_message, 2)} µs | ${n(f.other_cores, 2)} |`);
    lines.push('');
  }
  const times = (kafkajsOverCkjs: number | null): string => (kafkajsOverCkjs === null ? '—' : `${n(1 / kafkajsOverCkjs, 2)}×`);
  lines.push(
    `Consuming, confluent-kafka-javascript's cheaper \`eachBatch\` shape spends ${times(m.ratio.consume_cpu_per_message)} kafkajs's CPU per message ` +
      `(${n(c.consume_each_batch?.cpu_us_per_message, 2)} against ${n(m.kafkajs.consume_each_batch?.cpu_us_per_message, 2)} µs) and counts at ${n(m.ratio.consume_rate, 2)}× its rate; ` +
      `producing, it spends ${times(m.ratio.produce_cpu_per_message)} the bare kafkajs producer's CPU per message at ${n(m.ratio.produce_rate, 2)}× its rate. ` +
      `The wide margin that would justify a second Kafka adapter (≥ ${WIDE_MARGIN}× less CPU per message consumed) is ${m.wide_margin.met ? '' : 'not '}met in this run; ` +
      'the decision: [ADR 22](../adr/0022-kafka-client.md).',
    '',
  );
  return lines;
};
