import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { apiSectionMarkdown } from './api-report';
import type { BusFloorResult } from './bus-floor';
import type { CoreResult } from './core';
import type { ProfileSummary } from './cpu-profile';
import type { SeedDesignResult } from './seed-design';
import type { LatencySummary, ServiceResult } from './service';
import { lineChart } from './svg-chart';

/** The issue's targets (issue 5). A figure is compared with its target, never adjusted to it. */
export const TARGETS = {
  core_orders_per_s: { min: 400_000 },
  kafka_consume_orders_per_s: { min: 100_000 },
  e2e_orders_per_s: { min: 2_500 },
  speedup_vs_seed_design: { min: 20 },
  latency_p99_ms: { max: 50 },
  peak_rss_mb: { max: 150 },
  batched_orders_per_s: { min: 50_000 },
} as const;

/** Cores each process kept busy during a scenario; `other` is everything else on the machine. */
export interface CpuShares {
  readonly service: number | undefined;
  readonly minio: number | undefined;
  readonly kafka: number | undefined;
  readonly harness: number | undefined;
  readonly other: number | undefined;
}

type Measured = ServiceResult & { readonly cpu: CpuShares };

export interface Details {
  readonly b1?: CoreResult;
  readonly prefill?: { bulkOrders: number; e2eOrders: number; ordersPerS: number };
  readonly b2?: Measured;
  /** B2's floor: the same topic consumed by loops that only ack (bench/bus-floor.ts). */
  readonly b2Floor?: ReadonlyArray<BusFloorResult & { readonly cpu: CpuShares }>;
  readonly b3?: Measured & { maxInFlight: number; cosMaxConcurrency: number };
  readonly b4?: SeedDesignResult;
  readonly b6WithoutNodeFlags?: { orders: number; peakRssMb: number; ordersPerS: number };
  readonly b5?: {
    rate: number;
    latencyMs: LatencySummary;
    measuredOrders: number;
    worstSendDelayMs: number;
    ordersPerS: number;
    peakRssMb: number;
    cpu: CpuShares;
  };
  readonly b7?: Measured & { maxMessages: number; inFlightBudget: number };
  readonly putConcurrencySweep?: ReadonlyArray<{ concurrency: number; ordersPerS: number; peakRssMb: number; cpu: CpuShares }>;
  readonly latencyVsRate?: ReadonlyArray<LatencySummary & { rate: number; ordersPerS: number; otherCores: number | undefined }>;
  readonly batchSizeSweep?: ReadonlyArray<{ maxMessages: number; ordersPerS: number; peakRssMb: number; acked: number }>;
  readonly profiles?: { core: ProfileSummary; e2e: ProfileSummary; batched?: ProfileSummary };
}

/** bench/results/latest.json: the issue's fields at the top level, everything behind them below. */
export interface BenchResults {
  readonly mode: 'full' | 'quick';
  readonly started_at: string;
  readonly duration_s: number;
  readonly core_orders_per_s?: number;
  readonly kafka_consume_orders_per_s?: number;
  readonly e2e_orders_per_s?: number;
  readonly seed_design_orders_per_s?: number;
  readonly speedup_vs_seed_design?: number;
  readonly latency_ms?: { rate: number; p50: number; p99: number; p999: number; max: number };
  readonly peak_rss_mb?: number;
  readonly batched_orders_per_s?: number;
  readonly targets: typeof TARGETS;
  readonly machine: {
    cores: number;
    cpu_model: string;
    memory_gb: number;
    node: string;
    platform: string;
    load_avg_start: number[];
    load_avg_end: number[];
    stack: string;
  };
  readonly settings: {
    partitions: number;
    compression: string;
    /** null: the Kafka adapter's default (1 MiB). */
    max_partition_fetch_bytes: number | null;
    service_node_flags: Readonly<Record<'per-order' | 'batched', readonly string[]>>;
    max_in_flight: number;
    cos_max_concurrency: number;
    batch: { maxMessages: number; maxSpanMs: number };
    /** The run's sizes (run.ts Plan). */
    plan: object;
  };
  readonly details: Details;
  readonly failures: Record<string, string>;
}

const CHARTS = {
  concurrency: 'performance-put-concurrency.svg',
  latency: 'performance-latency-vs-rate.svg',
  batch: 'performance-batch-size.svg',
} as const;

/** Writes docs/performance.md and its charts from a results file: the report is never edited by hand. */
export const renderReport = (results: BenchResults, repoRoot: string): void => {
  const docs = path.join(repoRoot, 'docs');
  mkdirSync(docs, { recursive: true });
  const charts = renderCharts(results);
  for (const [file, svg] of Object.entries(charts)) writeFileSync(path.join(docs, file), svg);
  // The API scenario's section (bench/api.ts), from bench/results/api.json: it can be run on its own.
  writeFileSync(path.join(docs, 'performance.md'), markdown(results, new Set(Object.keys(charts))) + apiSectionMarkdown(repoRoot));
};

const renderCharts = (r: BenchResults): Record<string, string> => {
  const charts: Record<string, string> = {};
  const sweep = r.details.putConcurrencySweep;
  if (sweep !== undefined && sweep.length > 0) {
    charts[CHARTS.concurrency] = lineChart({
      title: 'B3: Kafka → MinIO, one object per order',
      xLabel: 'concurrent PUTs (COS_MAX_CONCURRENCY)',
      yLabel: 'orders/s',
      logX: true,
      series: [
        { name: 'measured', points: sweep.map((p) => ({ x: p.concurrency, y: p.ordersPerS })) },
        // What the machine's cores allow at the CPU per order measured at each point: the gap to
        // the measured rate is CPU the service, MinIO and Kafka did not get.
        { name: 'CPU ceiling', dashed: true, points: sweep.map((p) => ({ x: p.concurrency, y: cpuCeiling(p.ordersPerS, p.cpu, r.machine.cores) })) },
      ],
    });
  }
  const latency = r.details.latencyVsRate;
  if (latency !== undefined && latency.length > 1) {
    const at = (pick: (p: LatencySummary) => number) => latency.map((p) => ({ x: p.rate, y: Math.max(0.1, pick(p)) }));
    charts[CHARTS.latency] = lineChart({
      title: 'B5: open-loop latency (intended send → archive ack)',
      xLabel: 'offered rate (orders/s)',
      yLabel: 'latency (ms, log scale)',
      logY: true,
      series: [
        { name: 'p50', points: at((p) => p.p50) },
        { name: 'p99', points: at((p) => p.p99) },
        { name: 'p99.9', points: at((p) => p.p999) },
        { name: 'target p99 50 ms', dashed: true, points: latency.map((p) => ({ x: p.rate, y: TARGETS.latency_p99_ms.max })) },
      ],
    });
  }
  const batch = r.details.batchSizeSweep;
  if (batch !== undefined && batch.length > 1) {
    charts[CHARTS.batch] = lineChart({
      title: 'B7: batched sink, one NDJSON object per batch',
      xLabel: 'messages per object (ORDERFLOW_BATCH_MAX_MESSAGES)',
      yLabel: 'orders/s',
      logX: true,
      series: [{ name: 'measured', points: batch.map((p) => ({ x: p.maxMessages, y: p.ordersPerS })) }],
    });
  }
  return charts;
};

/** Orders/s the cores could sustain at the CPU per order that service, MinIO and Kafka spent. */
const cpuCeiling = (ordersPerS: number, cpu: CpuShares, cores: number): number => {
  const busy = (cpu.service ?? 0) + (cpu.minio ?? 0) + (cpu.kafka ?? 0);
  return busy > 0 ? (cores * ordersPerS) / busy : 0;
};

// ---- Markdown ----

const n = (value: number | undefined, digits = 0): string =>
  value === undefined ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const flags = (list: readonly string[]): string => (list.length === 0 ? 'none' : `\`${list.join(' ')}\``);

const verdict = (value: number | undefined, target: { min?: number; max?: number }): string => {
  if (value === undefined) return '**not measured**';
  if ('min' in target && target.min !== undefined) return value >= target.min ? 'met' : `**missed** (${Math.round((value / target.min) * 100)} % of target)`;
  if ('max' in target && target.max !== undefined) return value <= target.max ? 'met' : `**missed** (${n(value / target.max, 1)}× the limit)`;
  return '';
};

/**
 * What limited a service scenario, from where its CPU went. When the store spent a good share of
 * the CPU, the machine's cores were the limit and the sum of the costs per order gives the
 * ceiling; otherwise the service's own JavaScript thread was (GC and I/O threads run beside it,
 * which is why the service can show more than one core busy).
 */
const limitOf = (m: Measured, cores: number): string => {
  const perOrder = (busy: number | undefined): number => ((busy ?? 0) * 1e6) / m.ordersPerS;
  const [service, minio, kafka] = [perOrder(m.cpu.service), perOrder(m.cpu.minio), perOrder(m.cpu.kafka)];
  const others = `other work took ${n(m.cpu.other, 2)} cores`;
  if (minio >= service / 2) {
    return `CPU of the machine: ${n(service)} µs per order in the service + ${n(minio)} µs in MinIO → at most ≈ ${n((cores * 1e6) / (service + minio + kafka))} orders/s on ${cores} cores; ${others}`;
  }
  return `CPU of the service: ${n(service)} µs per order, on one JavaScript thread (${n(m.cpu.service, 2)} cores busy, GC threads included); ${others}`;
};

/** One line per scenario naming what limited it, computed from this run's measurements. */
const bound = {
  b1: (d: Details): string => {
    const areas = d.profiles?.core.byArea.filter((a) => a.name !== 'idle').slice(0, 3);
    return areas === undefined ? 'CPU of one core' : `CPU of one core, spread out: ${areas.map((a) => `${a.name} ${n(a.selfPct, 0)} %`).join(', ')}`;
  },
  cpu: (m: Measured | undefined, cores: number): string => (m === undefined || m.ordersPerS <= 0 ? '—' : limitOf(m, cores)),
  b4: (d: Details): string =>
    d.b4 === undefined
      ? '—'
      : `the seed loop waits ${n(d.b4.writeMs, 1)} ms per write + ${n(d.b4.commitMs, 1)} ms per commit; B3 is capped by CPU (above), so the ratio is too`,
  b5: (r: BenchResults): string => {
    const served = r.details.b5?.ordersPerS;
    if (served === undefined || r.latency_ms === undefined) return '—';
    return served < r.latency_ms.rate * 0.98
      ? `offered ${n(r.latency_ms.rate)}/s, archived ${n(served)}/s: a growing backlog (see B3)`
      : 'the service keeps up: see the percentiles by rate';
  },
};

const cpuTable = (title: string, m: Measured | undefined, cores: number): string[] => {
  if (m === undefined || m.ordersPerS <= 0) return [];
  // CPU per order, by process: what each order cost, and so what the machine could do at most.
  const perOrder = (cores: number | undefined): number | undefined => (cores === undefined ? undefined : (cores * 1e6) / m.ordersPerS);
  const parts = [
    ['service (Node)', m.cpu.service],
    ['MinIO', m.cpu.minio],
    ['Kafka broker', m.cpu.kafka],
  ] as const;
  const rows = parts.map(([name, busy]) => `| ${name} | ${n(busy, 2)} | ${n(perOrder(busy))} µs |`);
  return [
    `**${title}** — ${n(m.ordersPerS)} orders/s; CPU while it ran:`,
    '',
    '| process | cores busy | CPU per order |',
    '|---|---|---|',
    ...rows,
    `| load generator / harness | ${n(m.cpu.harness, 2)} | |`,
    `| everything else on the machine (other engineers' work) | ${n(m.cpu.other, 2)} | |`,
    '',
    `What limited it: ${limitOf(m, cores)}.`,
    '',
  ];
};

const FLOOR_LOOPS: Record<BusFloorResult['loop'], string> = {
  kafkajs: 'kafkajs `eachBatch`, nothing else (the client alone)',
  'port-batch': 'KafkaMessageBus, a batch handler that only calls `ackThrough(last)`',
  'port-delivery': 'KafkaMessageBus, a per-message handler that only calls `ack()`',
};

/** B2's floor: what consuming costs before any decoding, for the bare client and for the port's two handler shapes. */
const floorSection = (floor: Details['b2Floor']): string[] => {
  if (floor === undefined || floor.length === 0) return [];
  const serviceCpu = (f: BusFloorResult & { cpu: CpuShares }): number | undefined =>
    f.cpu.service === undefined || f.ordersPerS <= 0 ? undefined : (f.cpu.service * 1e6) / f.ordersPerS;
  return [
    `**B2's floor** — the same ${n(floor[0]!.consumed)} pre-filled orders, consumed by loops that decode nothing and only ack:`,
    '',
    '| loop | orders/s | service CPU per order | other work (cores) |',
    '|---|---|---|---|',
    ...floor.map((f) => `| ${FLOOR_LOOPS[f.loop]} | ${n(f.ordersPerS)} | ${n(serviceCpu(f), 2)} µs | ${n(f.cpu.other, 2)} |`),
    '',
    'The gap between the first row and the others is what the port itself costs per message, in each handler shape.',
    '',
  ];
};

const profileSection = (title: string, profile: ProfileSummary | undefined): string[] => {
  if (profile === undefined) return [];
  return [
    `**${title}** — ${n(profile.sampledMs)} ms sampled, idle ${n(profile.idlePct, 1)} %.`,
    '',
    '| area | self time |',
    '|---|---|',
    ...profile.byArea.slice(0, 8).map((a) => `| ${a.name} | ${n(a.selfPct, 1)} % |`),
    '',
    '| function (self time; builtins V8 inlined, such as JSON.parse, count in their caller) | where | self |',
    '|---|---|---|',
    ...profile.topFunctions.map((f) => `| \`${f.name}\` | ${f.where} | ${n(f.selfPct, 1)} % |`),
    '',
  ];
};

const markdown = (r: BenchResults, charts: ReadonlySet<string>): string => {
  const d = r.details;
  const s = r.settings;
  const plan = s.plan as { e2eSample: number; e2eOrders: number; seedSample: number; bulkOrders: number; sweepSample: number; latency: { warmupS: number; durationS: number } };
  const lines: string[] = [
    '# Performance',
    '',
    `<!-- Generated by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` from bench/results/latest.json: do not edit by hand. -->`,
    '',
    `Generated by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` (${r.mode} run) on ${r.started_at.slice(0, 16).replace('T', ' ')} UTC in ${r.duration_s} s. ` +
      'Every figure below was measured in that one run; ratios compare figures of the same run. ' +
      'How the harness works and what was tuned: [ADR 10](../adr/0010-performance-tuning.md); the batched sink: [ADR 11](../adr/0011-batched-exactly-once-sink.md).',
    '',
    '## Figures against the targets',
    '',
    '| # | scenario | figure | target | verdict | what bounds it (measured in this run) |',
    '|---|---|---|---|---|---|',
    `| B1 | core in-process, one core: decode → score → Top-K → window → in-memory archive | ${n(r.core_orders_per_s)} orders/s | ≥ 400,000 | ${verdict(r.core_orders_per_s, TARGETS.core_orders_per_s)} | ${bound.b1(d)} |`,
    `| B2 | Kafka → decode → null archive | ${n(r.kafka_consume_orders_per_s)} orders/s | ≥ 100,000 | ${verdict(r.kafka_consume_orders_per_s, TARGETS.kafka_consume_orders_per_s)} | ${bound.cpu(d.b2, r.machine.cores)} |`,
    `| B3 | Kafka → MinIO, one object per order | ${n(r.e2e_orders_per_s)} orders/s | ≥ 2,500 | ${verdict(r.e2e_orders_per_s, TARGETS.e2e_orders_per_s)} | ${bound.cpu(d.b3, r.machine.cores)} |`,
    `| B4 | the seed design on the same data | ${n(r.seed_design_orders_per_s, 1)} orders/s; B3 is ${n(r.speedup_vs_seed_design, 1)}× faster | speedup ≥ 20× | ${verdict(r.speedup_vs_seed_design, TARGETS.speedup_vs_seed_design)} | ${bound.b4(d)} |`,
    `| B5 | open loop at ${n(r.latency_ms?.rate)} orders/s | p50 ${n(r.latency_ms?.p50, 1)} · p99 ${n(r.latency_ms?.p99, 1)} · p99.9 ${n(r.latency_ms?.p999, 1)} · max ${n(r.latency_ms?.max, 1)} ms | p99 ≤ 50 ms | ${verdict(r.latency_ms?.p99, TARGETS.latency_p99_ms)} | ${bound.b5(r)} |`,
    `| B6 | peak RSS of the service during B3 | ${n(r.peak_rss_mb, 1)} MB with ${flags(s.service_node_flags['per-order'])}; ${n(d.b6WithoutNodeFlags?.peakRssMb)} MB without them (${n(d.b6WithoutNodeFlags?.orders)} orders) | ≤ 150 MB | ${verdict(r.peak_rss_mb, TARGETS.peak_rss_mb)} | V8 sizes its heap from the host's memory unless told otherwise |`,
    `| B7 | batched sink, one NDJSON object per partition per batch | ${n(r.batched_orders_per_s)} orders/s | ≥ 50,000 | ${verdict(r.batched_orders_per_s, TARGETS.batched_orders_per_s)} | ${bound.cpu(d.b7, r.machine.cores)} |`,
    '',
    // B4's target is about the per-order sink; what the design gains once the PUT per order is gone is B7 against the same seed figure.
    ...(r.batched_orders_per_s === undefined || r.seed_design_orders_per_s === undefined
      ? []
      : [
          `Against the seed design of B4, in the same run, the batched sink (B7) archives ${n(r.batched_orders_per_s / r.seed_design_orders_per_s, 0)}× as many orders a second: ` +
            'the per-order sink is capped by one PUT per order on this machine (B3), the batched sink by its own CPU.',
          '',
        ]),
    ...(Object.keys(r.failures).length === 0
      ? []
      : ['**Scenarios that failed in this run** (their figures are missing, not estimated):', '', ...Object.entries(r.failures).map(([name, error]) => `- ${name}: ${error}`), '']),
    '## Machine and noise',
    '',
    `- ${r.machine.cores} cores (${r.machine.cpu_model}), ${r.machine.memory_gb} GiB memory, Node ${r.machine.node}, ${r.machine.platform}.`,
    `- Kafka 3.9.1 (one KRaft node) and MinIO from the ${r.machine.stack}, on the same machine as the service and the load generator.`,
    `- Load average at the start ${r.machine.load_avg_start.join(' / ')}, at the end ${r.machine.load_avg_end.join(' / ')} (1 / 5 / 15 min). ` +
      'The machine is shared with other work (other engineers\' test suites): the "everything else" row of each scenario below says how many ' +
      'cores it took meanwhile. Where that row is large, the figure is low by about that share of the machine.',
    '',
    '## Settings',
    '',
    `- Topics: ${s.partitions} partitions, ${s.compression} compression; orders as the seed sends them (JSON, about 130 bytes, keyed by id).`,
    `- Node flags of the service, as adr/0010 recommends: per-order sink ${flags(s.service_node_flags['per-order'])}, batched sink ${flags(s.service_node_flags.batched)}. ` +
      `KAFKA_MAX_PARTITION_FETCH_BYTES ${n(s.max_partition_fetch_bytes ?? undefined)}.`,
    `- Per-order sink: ORDERFLOW_MAX_IN_FLIGHT ${s.max_in_flight}, COS_MAX_CONCURRENCY ${s.cos_max_concurrency} (the service's defaults unless set in the environment).`,
    `- Batched sink: ORDERFLOW_BATCH_MAX_MESSAGES ${s.batch.maxMessages}, ORDERFLOW_BATCH_MAX_SPAN_MS ${s.batch.maxSpanMs}, in-flight budget ${n(d.b7?.inFlightBudget)}.`,
    `- B1: ${n((d.b1?.roundsOrdersPerS.length ?? 1) - 1)} counted rounds after a warm-up round; the figure is their median. B2 and B7 read ${n(plan.bulkOrders)} pre-filled orders. ` +
      `B3 measures ${n(plan.e2eSample)} of ${n(plan.e2eOrders)} pre-filled orders${plan.e2eSample < plan.e2eOrders ? ' (the quick run measures a sample)' : ''}; ` +
      `B4 measures the first ${n(plan.seedSample)} of the same orders (the seed design is too slow for all of them: its figure is a rate on that sample).`,
    `- B5: the generator stamps each order's intended send time in produced_at and sends on schedule whatever the service does (open loop); ` +
      `${plan.latency.warmupS} s of warm-up orders are not recorded, then ${plan.latency.durationS} s are. Its producer lingers 2 ms. ` +
      'Latency is taken at the ack, which the sink gives once the archive write succeeded; orders still unacked at the drain deadline count at their age then.',
    '- Throughput is measured inside the service process, from its first delivery to its last ack (the group join is excluded).',
    '',
  ];

  lines.push('## Charts', '');
  if (charts.has(CHARTS.concurrency)) {
    lines.push(`![B3 throughput against PUT concurrency](${CHARTS.concurrency})`, '');
    lines.push('| concurrent PUTs | orders/s | peak RSS | service / MinIO / Kafka / other cores |', '|---|---|---|---|');
    for (const p of d.putConcurrencySweep ?? []) {
      lines.push(`| ${p.concurrency} | ${n(p.ordersPerS)} | ${n(p.peakRssMb)} MB | ${n(p.cpu.service, 2)} / ${n(p.cpu.minio, 2)} / ${n(p.cpu.kafka, 2)} / ${n(p.cpu.other, 2)} |`);
    }
    lines.push(
      '',
      `Each point is ${n(plan.sweepSample)} orders through a fresh consumer group. The dashed line is the rate the ${r.machine.cores} cores ` +
        'would sustain at the CPU per order that service, MinIO and Kafka spent at that point; the measured rate falls short of it by the CPU other work took.',
      '',
    );
  }
  if (charts.has(CHARTS.latency)) {
    lines.push(`![B5 latency percentiles against offered rate](${CHARTS.latency})`, '');
  }
  if (d.latencyVsRate !== undefined) {
    lines.push(
      '| offered orders/s | archived orders/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | unacked at deadline | other work (cores) |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const p of d.latencyVsRate) {
      lines.push(
        `| ${n(p.rate)} | ${n(p.ordersPerS)} | ${n(p.p50, 1)} | ${n(p.p90, 1)} | ${n(p.p99, 1)} | ${n(p.p999, 1)} | ${n(p.max, 1)} | ${n(p.unfinished)} | ${n(p.otherCores, 2)} |`,
      );
    }
    lines.push('');
  }
  if (charts.has(CHARTS.batch)) lines.push(`![B7 throughput against batch size](${CHARTS.batch})`, '');
  if (d.batchSizeSweep !== undefined) {
    lines.push('| messages per object | orders/s | peak RSS |', '|---|---|---|');
    for (const p of d.batchSizeSweep) lines.push(`| ${n(p.maxMessages)} | ${n(p.ordersPerS)} | ${n(p.peakRssMb)} MB |`);
    lines.push('');
  }

  lines.push('## Where the time goes', '');
  lines.push(...cpuTable('B3, one object per order', d.b3, r.machine.cores));
  lines.push(...cpuTable('B7, batched', d.b7, r.machine.cores));
  lines.push(...cpuTable('B2, null archive', d.b2, r.machine.cores));
  lines.push(...floorSection(d.b2Floor));
  if (d.b1 !== undefined) {
    lines.push(
      `**B1, core on one core**: ${n(1e6 / d.b1.ordersPerS, 2)} µs per order (rounds: ${d.b1.roundsOrdersPerS.map((x) => n(x)).join(', ')} orders/s, the first a warm-up).`,
      '',
    );
  }
  lines.push('### CPU profiles (`node --cpu-prof`, summarised from the .cpuprofile by the harness)', '');
  lines.push(...profileSection('B1 core', d.profiles?.core));
  lines.push(...profileSection('B3 service process', d.profiles?.e2e));
  lines.push(...profileSection('B7 service process (batched sink)', d.profiles?.batched));
  lines.push('The raw profiles are in `bench/results/profiles/` (not committed); open them in Chrome DevTools or VS Code.', '');

  if (d.b4 !== undefined) {
    lines.push(
      '## The seed design',
      '',
      `${n(d.b4.processed)} orders in ${n(d.b4.elapsedS, 1)} s: ${n(d.b4.ordersPerS, 1)} orders/s, peak RSS ${n(d.b4.peakRssMb)} MB. ` +
        `Each message waited ${n(d.b4.writeMs, 2)} ms on average for its archive write and ${n(d.b4.commitMs, 2)} ms for its offset commit: ` +
        'the loop is bound by round trips, one at a time, while B3 overlaps them and is bound by CPU. ' +
        'Same decode, scoring and archive code as B3 (ProcessOrders and CosOrderArchive from the same composition root); only the loop differs: ' +
        'kafkajs `eachMessage`, one awaited PUT per message, one awaited offset commit per message.',
      '',
    );
  }
  if (d.b5 !== undefined) {
    lines.push(
      '## Open-loop latency',
      '',
      `${n(d.b5.measuredOrders)} measured orders at ${n(d.b5.rate)}/s; the service acked ${n(d.b5.ordersPerS)} orders/s on average over the run; ` +
        `the generator fell behind its schedule by ${n(d.b5.worstSendDelayMs)} ms at worst (this delay is inside the figures, not hidden from them). ` +
        `When the offered rate exceeds what the service can archive (B3), the backlog grows for the whole run and latency grows with it: ` +
        'the percentiles then measure the backlog, not the pipeline.',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
};
