import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { apiSectionMarkdown } from './api-report';
import type { BusFloorResult } from './bus-floor';
import type { CoreResult } from './core';
import type { ProfileSummary } from './cpu-profile';
import { FLOOR_LOOPS, kafkaClientsOf, kafkaClientsSection, type KafkaClientsDetails } from './kafka-clients';
import type { SeedDesignResult } from './seed-design';
import type { CosClient } from '../src/adapters/cos/s3-calls';
import type { PutFloorResult } from './put-floor';
import { BareLoop, busyCores, cpuCeiling, OnePutPerOrderLimit, RATIO_TARGETS, Scenario, ScenarioId, Scenarios, scenariosOf, slowSeconds, soakDeviation } from './scenarios';
import type { LatencySummary } from './ack-latency';
import type { ServiceResult } from './service';
import { lineChart } from './svg-chart';

/** Cores each process kept busy during a scenario; `other` is everything else on the machine. */
export interface CpuShares {
  readonly service: number | undefined;
  readonly minio: number | undefined;
  readonly kafka: number | undefined;
  readonly harness: number | undefined;
  readonly other: number | undefined;
}

type Measured = ServiceResult & { readonly cpu: CpuShares };

export interface OpenLoopRun {
  readonly rate: number;
  readonly latencyMs: LatencySummary;
  readonly measuredOrders: number;
  readonly worstSendDelayMs: number;
  readonly ordersPerS: number;
  readonly peakRssMb: number;
  readonly cpu: CpuShares;
}

export type B3ClientName = 'ibm-cos-sdk' | 'http' | 'aws-sdk-v3';
export type PutLoopRun = PutFloorResult & { readonly cpu: CpuShares; readonly concurrency: number };
type B3Run = Measured & { maxInFlight: number; cosMaxConcurrency: number; cosClient?: CosClient };

export interface Details {
  readonly b1?: CoreResult;
  readonly prefill?: { bulkOrders: number; e2eOrders: number; ordersPerS: number };
  readonly b2?: Measured;
  /** B2's floor: the same topic consumed by loops that only ack (bench/bus-floor.ts). */
  readonly b2Floor?: ReadonlyArray<BusFloorResult & { readonly cpu: CpuShares }>;
  /** cosClient: COS_CLIENT as the service ran (absent in runs before adr/0021: ibm-cos-sdk). */
  readonly b3?: B3Run;
  /** B3 again with COS_CLIENT=ibm-cos-sdk (full run only, when the configured client is another). */
  readonly b3IbmCosSdk?: B3Run;
  /** B3's limit: bare signed PUTs of the same records with Node's http client (bench/put-floor.ts). */
  readonly b3Floor?: PutLoopRun;
  /** The same PUTs through CosOrderArchive alone, with the configured client: its share of B3. */
  readonly b3Adapter?: PutLoopRun;
  /** The same PUTs through each client alone, in the same run (adr/0021). */
  readonly b3Clients?: Partial<Record<B3ClientName, PutLoopRun>>;
  readonly b4?: SeedDesignResult;
  readonly b6WithoutNodeFlags?: { orders: number; peakRssMb: number; ordersPerS: number };
  /** The open loop at 1,000 orders/s. */
  readonly b5?: OpenLoopRun;
  /** B5 proper: the open loop at half the B3 capacity of the same run. */
  readonly b5Half?: OpenLoopRun & { capacity: number };
  /**
   * B5's limit: the same open loop right after it, at the same rate for as long, through a bare
   * kafkajs consumer and bare signed PUTs (bench/open-loop-floor.ts).
   */
  readonly b5Bare?: OpenLoopRun;
  /** B6's soak: an open loop at half the B3 capacity, RSS sampled every second. */
  readonly b6Soak?: OpenLoopRun & { durationS: number; short: boolean; rssSamples: ReadonlyArray<readonly [number, number]> };
  readonly b7?: Measured & { maxMessages: number; inFlightBudget: number };
  readonly putConcurrencySweep?: ReadonlyArray<{ concurrency: number; ordersPerS: number; peakRssMb: number; cpu: CpuShares }>;
  readonly latencyVsRate?: ReadonlyArray<LatencySummary & { rate: number; ordersPerS: number; otherCores: number | undefined }>;
  readonly batchSizeSweep?: ReadonlyArray<{ maxMessages: number; ordersPerS: number; peakRssMb: number; acked: number }>;
  readonly profiles?: { core: ProfileSummary; nullArchive?: ProfileSummary; e2e: ProfileSummary; batched?: ProfileSummary };
  /** The Kafka client comparison (bench/kafka-clients.ts), summarised at the top as `kafka_clients`. */
  readonly kafkaClients?: KafkaClientsDetails;
}

/** bench/results/latest.json: each scenario against its same-run limit (issue 12) at the top, everything behind them below. */
export interface BenchResults {
  readonly mode: 'full' | 'quick';
  readonly started_at: string;
  readonly duration_s: number;
  readonly scenarios: Scenarios;
  readonly targets: typeof RATIO_TARGETS;
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
    /** Absent in results before 2026-12-03 (no such settings then: kafkajs's defaults, and a 2 ms load linger). */
    fetch_min_bytes?: number | null;
    fetch_max_wait_ms?: number | null;
    load_linger_ms?: number;
    service_node_flags: Readonly<Record<'per-order' | 'batched', readonly string[]>>;
    max_in_flight: number;
    cos_max_concurrency: number;
    /** COS_CLIENT as the service ran (absent in runs before adr/0021). */
    cos_client?: CosClient;
    batch: { maxMessages: number; maxSpanMs: number };
    /** The run's sizes (run.ts Plan). */
    plan: object;
  };
  /** kafkajs beside @confluentinc/kafka-javascript on the same pre-filled topic (absent when not run). */
  readonly kafka_clients?: ReturnType<typeof kafkaClientsOf>;
  readonly details: Details;
  readonly failures: Record<string, string>;
}

const CHARTS = {
  concurrency: 'performance-put-concurrency.svg',
  latency: 'performance-latency-vs-rate.svg',
  batch: 'performance-batch-size.svg',
  soak: 'performance-soak-rss.svg',
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
        {
          name: `target ${RATIO_TARGETS.B3_rate.min * 100} % of it`,
          dashed: true,
          points: sweep.map((p) => ({ x: p.concurrency, y: RATIO_TARGETS.B3_rate.min * cpuCeiling(p.ordersPerS, p.cpu, r.machine.cores) })),
        },
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
        { name: `target p99 ${RATIO_TARGETS.B5.p99_ms_max} ms`, dashed: true, points: latency.map((p) => ({ x: p.rate, y: RATIO_TARGETS.B5.p99_ms_max })) },
        { name: `target p99.9 ${RATIO_TARGETS.B5.p999_ms_max} ms`, dashed: true, points: latency.map((p) => ({ x: p.rate, y: RATIO_TARGETS.B5.p999_ms_max })) },
        ...(r.details.b5Half === undefined
          ? []
          : [{ name: 'half the B3 capacity', dashed: true, points: [{ x: r.details.b5Half.rate, y: 0.1 }, { x: r.details.b5Half.rate, y: Math.max(...latency.map((p) => p.max)) }] }]),
      ],
    });
  }
  const soak = r.details.b6Soak;
  if (soak !== undefined && soak.rssSamples.length > 1) {
    const level = soakDeviation(soak.rssSamples, soak.durationS);
    const span = [soak.rssSamples[0]![0], soak.rssSamples[soak.rssSamples.length - 1]![0]];
    const band = (factor: number) => span.map((x) => ({ x, y: (level?.referenceMb ?? 0) * factor }));
    charts[CHARTS.soak] = lineChart({
      title: `B6: RSS over a ${soak.durationS} s soak at ${soak.rate} orders/s`,
      xLabel: 'seconds since the first delivery',
      yLabel: 'RSS (MB)',
      series: [
        { name: 'RSS', points: soak.rssSamples.map(([x, y]) => ({ x, y })) },
        ...(level === undefined
          ? []
          : [
              { name: `+${RATIO_TARGETS.B6.soak_max_deviation_pct} % of the level`, dashed: true, points: band(1 + RATIO_TARGETS.B6.soak_max_deviation_pct / 100) },
              { name: `−${RATIO_TARGETS.B6.soak_max_deviation_pct} %`, dashed: true, points: band(1 - RATIO_TARGETS.B6.soak_max_deviation_pct / 100) },
            ]),
        { name: `target ${RATIO_TARGETS.B6.max_mb} MB`, dashed: true, points: span.map((x) => ({ x, y: RATIO_TARGETS.B6.max_mb })) },
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
      series: [
        { name: 'measured', points: batch.map((p) => ({ x: p.maxMessages, y: p.ordersPerS })) },
        ...(r.details.b2 === undefined
          ? []
          : [{ name: `target ${RATIO_TARGETS.B7.min * 100} % of B2`, dashed: true, points: batch.map((p) => ({ x: p.maxMessages, y: RATIO_TARGETS.B7.min * r.details.b2!.ordersPerS })) }]),
      ],
    });
  }
  return charts;
};

// ---- Markdown ----

const n = (value: number | undefined, digits = 0): string =>
  value === undefined ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const cpuPerOrder = (busy: number | undefined, perS: number): number | undefined => (busy === undefined || perS <= 0 ? undefined : (busy * 1e6) / perS);

/** A setting the run recorded as null (left to the adapter's default) or did not record (older results). */
const setting = (value: number | null | undefined, unset: string): string => (value === null || value === undefined ? unset : n(value));

const flags = (list: readonly string[]): string => (list.length === 0 ? 'none' : `\`${list.join(' ')}\``);

const verdict = (scenario: Scenario | undefined): string => (scenario === undefined ? '**not measured**' : scenario.met ? 'met' : '**missed**');

const pct = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined ? '—' : `${n(ratio * 100, 0)} %`);
const times = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined ? '—' : `${n(ratio, 2)}×`);
const num = (value: unknown, digits = 0): string => (typeof value === 'number' && Number.isFinite(value) ? n(value, digits) : '—');

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

/** A round list in CPU µs, put before the wall-time rates ("4.1, 4.0 µs of CPU; 170,000, … /s"); nothing for results that predate CPU time. */
const cpuRounds = (rounds: readonly number[] | undefined): string =>
  rounds === undefined ? '' : `${rounds.map((x) => n(x, 2)).join(', ')} µs of CPU; `;

/** Where in B5's window the tail came from, by second of intended send. */
const slowSecondsLine = (worstBySecondMs: readonly number[], overMs: number): string => {
  const { count, of, spans } = slowSeconds(worstBySecondMs, overMs);
  const calm = Math.max(0, ...worstBySecondMs.filter((worst) => worst <= overMs));
  if (count === 0) return `By second of intended send, no second's worst order took over ${n(overMs)} ms (the worst second's: ${n(calm, 1)} ms).`;
  const at = spans.map((span) => `${span.from === span.to ? `+${span.from} s` : `+${span.from}–${span.to} s`} (worst ${n(span.worstMs, 1)} ms)`).join(', ');
  return `By second of intended send, ${n(count)} of ${n(of)} seconds had an order over ${n(overMs)} ms, in ${n(spans.length)} span${spans.length === 1 ? '' : 's'}: ${at}; the other seconds' worst was ${n(calm, 1)} ms.`;
};

/** Where B5's latency starts: the part before the service has the order at all. */
const toDeliveryLine = (toDelivery: NonNullable<LatencySummary['toDeliveryMs']>, consumer = 'the service', ack = "the archive's ack"): string =>
  `Of that, intended send to the bus handing the order to ${consumer} (the generator's linger, the broker, the fetch) took ` +
  `p50 ${n(toDelivery.p50, 1)}, p99 ${n(toDelivery.p99, 1)}, p99.9 ${n(toDelivery.p999, 1)}, max ${n(toDelivery.max, 1)} ms; the rest is ${consumer}'s, from the handover to ${ack}.`;

/** What B5's bare loop (scenarios.B5.bare_loop) says about the target at this rate on this machine, beside the service's own verdict. */
const bareVerdict = (bare: BareLoop, serviceMet: boolean): string => {
  const missed = [
    ...(bare.p99_met ? [] : [`p99 ${n(bare.p99_ms, 1)} ms > ${RATIO_TARGETS.B5.p99_ms_max}`]),
    ...(bare.p999_met ? [] : [`p99.9 ${n(bare.p999_ms, 1)} ms > ${RATIO_TARGETS.B5.p999_ms_max}`]),
  ];
  const { cores } = bare;
  const machine =
    `the machine was ${n(100 * bare.machine_busy, 0)} % busy meanwhile: bare loop ${n(cores.service ?? 0, 2)}, MinIO ${n(cores.minio ?? 0, 2)}, ` +
    `Kafka ${n(cores.kafka ?? 0, 2)}, load generator ${n(cores.harness ?? 0, 2)}, other work ${n(cores.other ?? 0, 2)} cores`;
  if (missed.length > 0) return `The bare parts alone miss the target at this rate too (${missed.join(', ')}): no service could meet it on this machine now; ${machine}`;
  return serviceMet ? `The bare parts alone meet the target at this rate as well; ${machine}` : `The bare parts alone meet the target at this rate, so the gap is the service's; ${machine}`;
};

/** One line per scenario naming what limited it, computed from this run's measurements. */
const bound = {
  b1: (d: Details): string => {
    const areas = d.profiles?.core.byArea.filter((a) => a.name !== 'idle').slice(0, 3);
    return areas === undefined ? 'CPU of one core' : `CPU of one core, spread out: ${areas.map((a) => `${a.name} ${n(a.selfPct, 0)} %`).join(', ')}`;
  },
  cpu: (m: Measured | undefined, cores: number): string => (m === undefined || m.ordersPerS <= 0 ? '—' : limitOf(m, cores)),
  b4: (d: Details, limit: OnePutPerOrderLimit | undefined, cores: number): string => {
    if (d.b4 === undefined) return '—';
    const waits = `the seed loop waits ${n(d.b4.writeMs, 1)} ms per write + ${n(d.b4.commitMs, 1)} ms per commit`;
    if (d.b3 === undefined || d.b4.ordersPerS <= 0) return `${waits}; B3 is capped by CPU (above), so the ratio is too`;
    // The seed design is bound by round trips, B3 by CPU: their ratio is bounded by B3's CPU ceiling.
    const ceiling = cpuCeiling(d.b3.ordersPerS, d.b3.cpu, cores);
    const capped = `${waits}; B3 is capped by CPU (above): even at its CPU ceiling of ${n(ceiling)} orders/s it would be ${n(ceiling / d.b4.ordersPerS, 1)}× the seed design`;
    if (limit === undefined) return capped;
    return (
      `${capped}. B3's limit, bare signed PUTs of the same records and nothing else, did ${n(limit.puts_per_s)} PUTs/s, ${n(limit.ratio ?? NaN, 2)}× the seed design` +
      (limit.allows_target
        ? ''
        : `: B3 ≥ ${RATIO_TARGETS.B4.min}× is out of reach of any design that writes one object per order on this machine now; B3 reached ${n((100 * d.b3.ordersPerS) / limit.puts_per_s, 0)} % of that loop`)
    );
  },
  b5: (run: OpenLoopRun | undefined, b3: Measured | undefined, cores: number): string => {
    if (run === undefined) return '—';
    // The average over the run includes the drain, so a backlog shows in the latency, not in the rate.
    if (run.ordersPerS < run.rate * 0.98 || run.latencyMs.p50 > 1_000) {
      return `offered ${n(run.rate)}/s, archived ${n(run.ordersPerS)}/s on average with the drain, p50 ${n(run.latencyMs.p50 / 1000, 1)} s: a backlog formed; other work took ${n(run.cpu.other, 2)} cores`;
    }
    // Half of B3's rate is not half of the machine: an order that arrives alone costs every process
    // more than one in a bulk run (a fetch, a produce request, a PUT each), and the load generator
    // and the broker's request handling come on top.
    const busy = busyCores(run.cpu);
    const perOrder = (busy * 1e6) / run.ordersPerS;
    const b3PerOrder = b3 === undefined || b3.ordersPerS <= 0 ? undefined : (busyCores(b3.cpu) * 1e6) / b3.ordersPerS;
    const shares = `service ${n(run.cpu.service ?? 0, 2)}, MinIO ${n(run.cpu.minio ?? 0, 2)}, Kafka ${n(run.cpu.kafka ?? 0, 2)}, load generator ${n(run.cpu.harness ?? 0, 2)}, other work ${n(run.cpu.other ?? 0, 2)}`;
    return (
      `the service keeps up (${n(run.ordersPerS)}/s archived), on a machine ${n((100 * busy) / cores, 0)} % busy (${n(busy, 2)} of ${cores} cores: ${shares}): ` +
      `${n(perOrder)} µs of CPU per order across the processes` +
      (b3PerOrder === undefined ? '' : `, ${n(perOrder / b3PerOrder, 1)}× B3's ${n(b3PerOrder)} µs in bulk`)
    );
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

/** The headline table: one row per scenario, from `scenarios` (the same object latest.json carries). */
const scenarioRows = (r: BenchResults): string[] => {
  const d = r.details;
  const sc = r.scenarios;
  const cores = r.machine.cores;
  const row = (id: ScenarioId, what: string, figure: string, limit: string, ratio: string, target: string, bounds: string): string =>
    `| ${id} | ${what} | ${figure} | ${limit} | ${ratio} | ${target} | ${verdict(sc[id])} | ${bounds} |`;
  const b1 = sc.B1;
  const b2 = sc.B2;
  const b3 = sc.B3;
  const b3Rate = b3?.rate as { limit: number; ratio: number | null } | undefined;
  const b4 = sc.B4;
  const b4Batched = b4?.batched as { figure: number | null; ratio: number | null } | undefined;
  const b5 = sc.B5;
  const b5Bare = b5?.bare_loop as BareLoop | undefined;
  const b5At1000 = b5?.at_1000 as { rate: number; archived_per_s: number; p50_ms: number; p99_ms: number; p999_ms: number } | undefined;
  const b6 = sc.B6;
  const soak = b6?.soak as { duration_s: number; rate: number; short: boolean; peak_rss_mb: number; reference_mb: number | null; max_deviation_pct: number | null } | null | undefined;
  const b7 = sc.B7;
  return [
    row(
      'B1',
      'core in-process, one core: decode → score → enrich → key → stringify → Top-K → window → in-memory archive',
      b1 === undefined ? '—' : `${num(b1.figure, 2)} µs per order (${num(b1.orders_per_s)} orders/s)`,
      b1 === undefined ? '—' : `JSON.parse + JSON.stringify of the same messages: ${num(b1.limit, 2)} µs (${num(b1.limit_messages_per_s)}/s)`,
      times(b1?.ratio),
      `≤ ${RATIO_TARGETS.B1.max}×`,
      bound.b1(d),
    ),
    row(
      'B2',
      'Kafka → decode → null archive, through the StageRunner as `consume` runs it',
      b2 === undefined ? '—' : `${num(b2.figure)} orders/s (${num(b2.service_cpu_us_per_order, 2)} µs CPU per order)`,
      b2 === undefined ? '—' : `bare kafkajs eachBatch loop: ${num(b2.limit)} messages/s (${num(b2.limit_cpu_us_per_message, 2)} µs)`,
      pct(b2?.ratio),
      `≥ ${RATIO_TARGETS.B2.min * 100} %`,
      `${bound.cpu(d.b2, cores)}. Had the core cost only B1's JSON limit, B2 could reach at most ${pct(b2?.ratio_if_core_were_only_json as number | null)} of the bare loop`,
    ),
    row(
      'B3',
      'Kafka → MinIO, one object per order',
      b3 === undefined ? '—' : `${num(b3.figure)} µs of service CPU per order; ${num(b3.orders_per_s)} orders/s`,
      b3 === undefined
        ? '—'
        : `bare signed PUTs, Node http: ${num(b3.limit)} µs per PUT (CosOrderArchive alone, COS_CLIENT ${String(b3.cos_client)}: ${num(b3.adapter_cpu_us_per_put)} µs, ${times(b3.adapter_ratio as number | null)}); ` +
          `the cores allow ${num(b3Rate?.limit)} orders/s at the measured costs (${num((b3Rate as { limit_on_cores_left?: number } | undefined)?.limit_on_cores_left)} on the cores other work left)`,
      b3 === undefined ? '—' : `CPU ${times(b3.ratio)}; rate ${pct(b3Rate?.ratio)}`,
      `CPU ≤ ${RATIO_TARGETS.B3.max}×; rate ≥ ${RATIO_TARGETS.B3_rate.min * 100} %`,
      bound.cpu(d.b3, cores),
    ),
    row(
      'B4',
      'the seed design on the same data',
      b4 === undefined ? '—' : `B3 ${num(b4.figure)} orders/s; B7 ${num(b4Batched?.figure)} orders/s`,
      b4 === undefined ? '—' : `the seed design: ${num(b4.limit, 1)} orders/s`,
      b4 === undefined ? '—' : `B3 ${times(b4.ratio)}; B7 ${times(b4Batched?.ratio)}`,
      `B3 ≥ ${RATIO_TARGETS.B4.min}×; B7 ≥ ${RATIO_TARGETS.B4_batched.min}×`,
      bound.b4(d, b4?.one_object_per_order_limit as OnePutPerOrderLimit | undefined, cores),
    ),
    row(
      'B5',
      'open loop, intended send → archive ack, at half the B3 capacity',
      b5 === undefined
        ? '—'
        : `at ${num(b5.rate)}/s: p50 ${num(b5.p50_ms, 1)} · p99 ${num(b5.p99_ms, 1)} · p99.9 ${num(b5.p999_ms, 1)} ms` +
            (b5At1000 === undefined ? '' : `; at ${num(b5At1000.rate)}/s: p99 ${num(b5At1000.p99_ms, 1)} ms, ${num(b5At1000.archived_per_s)}/s archived`),
      b5 === undefined
        ? '—'
        : `B3 capacity ${num(b5.limit)} orders/s` +
            (b5Bare === undefined ? '' : `; the bare parts (kafkajs consumer + bare signed PUTs) at the same rate: p50 ${num(b5Bare.p50_ms, 1)} · p99 ${num(b5Bare.p99_ms, 1)} · p99.9 ${num(b5Bare.p999_ms, 1)} ms`),
      b5 === undefined ? '—' : `offered ${pct(b5.ratio)} of it` + (b5Bare === undefined ? '' : `; p99 ${times(b5Bare.p99_ratio)} the bare parts'`),
      `p99 ≤ ${RATIO_TARGETS.B5.p99_ms_max} ms, p99.9 ≤ ${RATIO_TARGETS.B5.p999_ms_max} ms`,
      bound.b5(d.b5Half, d.b3, cores) + (b5Bare === undefined ? '' : `. ${bareVerdict(b5Bare, b5?.met === true)}`),
    ),
    row(
      'B6',
      'peak RSS of the service at full rate (B3); soak at half the B3 capacity',
      b6 === undefined
        ? '—'
        : `${num(b6.figure, 1)} MB with ${flags(r.settings.service_node_flags['per-order'])} (${num(d.b6WithoutNodeFlags?.peakRssMb)} MB without); ` +
            (soak === null || soak === undefined
              ? 'no soak'
              : `soak ${num(soak.duration_s)} s${soak.short ? ' (short: quick run)' : ''} at ${num(soak.rate)}/s: within ±${num(soak.max_deviation_pct, 1)} % of ${num(soak.reference_mb, 1)} MB, peak ${num(soak.peak_rss_mb, 1)} MB`),
      '— (the target itself: 150 MB)',
      b6 === undefined ? '—' : times(b6.ratio),
      `≤ ${RATIO_TARGETS.B6.max_mb} MB; flat within ±${RATIO_TARGETS.B6.soak_max_deviation_pct} %`,
      "V8 sizes its heap from the host's memory unless told otherwise",
    ),
    row(
      'B7',
      'batched sink, one NDJSON object per partition per batch',
      b7 === undefined ? '—' : `${num(b7.figure)} orders/s (${num(b7.service_cpu_us_per_order, 2)} µs CPU per order)`,
      b7 === undefined ? '—' : `B2: ${num(b7.limit)} orders/s`,
      pct(b7?.ratio),
      `≥ ${RATIO_TARGETS.B7.min * 100} %`,
      bound.cpu(d.b7, cores),
    ),
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
    '## Figures against the limits measured in the same run',
    '',
    'Each scenario is compared with a limit the same run measured beside it (issue 12): absolute figures on this shared host swing by 2× between runs, ' +
      'their ratio to the same-run limit far less. The absolute figures are given beside the ratio.',
    '',
    '| # | scenario | figure | limit (same run) | ratio | target | verdict | what bounds it (measured in this run) |',
    '|---|---|---|---|---|---|---|---|',
    ...scenarioRows(r),
    '',
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
      `KAFKA_MAX_PARTITION_FETCH_BYTES ${n(s.max_partition_fetch_bytes ?? undefined)}; ` +
      `KAFKA_FETCH_MIN_BYTES ${setting(s.fetch_min_bytes, "unset (kafkajs's 1)")}, KAFKA_FETCH_MAX_WAIT_MS ${setting(s.fetch_max_wait_ms, 'unset (500)')}.`,
    `- Per-order sink: ORDERFLOW_MAX_IN_FLIGHT ${s.max_in_flight}, COS_MAX_CONCURRENCY ${s.cos_max_concurrency} (the service's defaults unless set in the environment).`,
    `- Batched sink: ORDERFLOW_BATCH_MAX_MESSAGES ${s.batch.maxMessages}, ORDERFLOW_BATCH_MAX_SPAN_MS ${s.batch.maxSpanMs}, in-flight budget ${n(d.b7?.inFlightBudget)}.`,
    `- B1: ${n((d.b1?.roundsOrdersPerS.length ?? 1) - 1)} counted rounds after a warm-up round; the figure is their median. B2 and B7 read ${n(plan.bulkOrders)} pre-filled orders. ` +
      `B3 measures ${n(plan.e2eSample)} of ${n(plan.e2eOrders)} pre-filled orders${plan.e2eSample < plan.e2eOrders ? ' (the quick run measures a sample)' : ''}; ` +
      `B4 measures the first ${n(plan.seedSample)} of the same orders (the seed design is too slow for all of them: its figure is a rate on that sample).`,
    `- B5: the generator stamps each order's intended send time in produced_at and sends on schedule whatever the service does (open loop); ` +
      `${plan.latency.warmupS} s of warm-up orders are not recorded, then ${plan.latency.durationS} s are; the open loops run in order of rate, lowest first, B5's half-capacity loop among them. Its producer is the service's publisher, lingering ${n(s.load_linger_ms ?? 2)} ms; the linger is inside the latency, which runs from the intended send time. ` +
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

  if (charts.has(CHARTS.soak)) {
    lines.push(
      `![B6 RSS over the soak](${CHARTS.soak})`,
      '',
      `RSS sampled every second during an open loop at half the B3 capacity; the dashed band is ±${RATIO_TARGETS.B6.soak_max_deviation_pct} % around its level ` +
        "in the soak's second fifth (the first fifth is the warm-up: the heap and the memory of recent keys grow to their working size).",
      '',
    );
  }

  lines.push('## Where the time goes', '');
  lines.push(...cpuTable('B3, one object per order', d.b3, r.machine.cores));
  lines.push(...cpuTable('B7, batched', d.b7, r.machine.cores));
  lines.push(...cpuTable('B2, null archive', d.b2, r.machine.cores));
  lines.push(...floorSection(d.b2Floor));
  if (d.b3Floor !== undefined) {
    const f = d.b3Floor;
    lines.push(
      `**B3's limit** — ${n(f.puts)} PUTs of the same records (${n(f.bodyBytes)} bytes each, the same keys) to the same MinIO, ${f.concurrency} at once, ` +
        "with Node's own http client over keep-alive sockets and a minimal SigV4 signer (bench/put-floor.ts; the payload is hashed as the SDK does, no Content-MD5): " +
        `${n(f.putsPerS)} PUTs/s, ${n(f.cpuUsPerPut, 1)} µs of client CPU per PUT; MinIO spent ${n(cpuPerOrder(f.cpu.minio, f.putsPerS), 0)} µs per PUT meanwhile, ` +
        `other work took ${n(f.cpu.other, 2)} cores.`,
      '',
    );
  }
  lines.push(...clientsSection(d, r.scenarios.B3));
  if (d.b1 !== undefined) {
    lines.push(
      `**B1, core on one core**: ${n(r.scenarios.B1?.figure ?? 0, 2)} µs of CPU per order (rounds: ${cpuRounds(d.b1.roundsCpuUsPerOrder)}${d.b1.roundsOrdersPerS.map((x) => n(x)).join(', ')} orders/s, the first a warm-up); ` +
        `its limit, JSON.parse + JSON.stringify of the same messages in rounds alternating with the core's: ${n(r.scenarios.B1?.limit ?? 0, 2)} µs of CPU per message ` +
        `(rounds: ${cpuRounds(d.b1.jsonRoundsCpuUsPerMessage)}${d.b1.jsonRoundsOrdersPerS.map((x) => n(x)).join(', ')} messages/s). ` +
        'The ratio is taken in CPU time (process.cpuUsage, GC threads included): wall time here also counts the time the process waited for a core.',
      '',
    );
    const steps = r.scenarios.B1?.['steps'] as Record<string, number | null> | undefined;
    if (steps !== undefined) {
      lines.push(
        `Where B1's ${n(r.scenarios.B1?.figure ?? 0, 2)} µs of CPU per order go (each step run alone on the same messages, in rounds alternating with the others):`,
        '',
        '| step | µs per order |',
        '|---|---|',
        `| the order codec: UTF-8, JSON.parse, the io-ts check, the domain's constructor | ${n(steps['decode_us'] ?? 0, 2)} |`,
        `| the rest of the evaluation: event time, risk, enrichment, the Hive key | ${n(steps['evaluate_beyond_decode_us'] ?? 0, 2)} |`,
        `| the record's serialisation: JSON.stringify into a Buffer | ${n(steps['serialise_us'] ?? 0, 2)} |`,
        `| the rest: the stage runner, the write to the in-memory archive, metrics, statistics, duplicates | ${n(steps['runner_write_bookkeeping_us'] ?? 0, 2)} |`,
        '',
        `The first three rows alone (decoding, evaluating and serialising, before any runner or bookkeeping) cost ${times(steps['floor_ratio'] ?? undefined)} the limit.`,
        '',
      );
    }
  }
  lines.push('### CPU profiles (`node --cpu-prof`, summarised from the .cpuprofile by the harness)', '');
  lines.push(...profileSection('B1 core', d.profiles?.core));
  lines.push(...profileSection('B2 service process (null archive)', d.profiles?.nullArchive));
  lines.push(...profileSection('B3 service process', d.profiles?.e2e));
  lines.push(...profileSection('B7 service process (batched sink)', d.profiles?.batched));
  lines.push('The raw profiles are in `bench/results/profiles/` (not committed); open them in Chrome DevTools or VS Code.', '');
  lines.push(...kafkaClientsSection(d.kafkaClients));

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
  if (d.b5Half !== undefined) {
    lines.push(
      '## Open-loop latency at half the B3 capacity (B5)',
      '',
      `${n(d.b5Half.measuredOrders)} measured orders at ${n(d.b5Half.rate)}/s, half of B3's ${n(d.b5Half.capacity)} orders/s in this run: ` +
        `p50 ${n(d.b5Half.latencyMs.p50, 1)}, p90 ${n(d.b5Half.latencyMs.p90, 1)}, p99 ${n(d.b5Half.latencyMs.p99, 1)}, p99.9 ${n(d.b5Half.latencyMs.p999, 1)}, max ${n(d.b5Half.latencyMs.max, 1)} ms; ` +
        `the service acked ${n(d.b5Half.ordersPerS)} orders/s; the generator fell behind its schedule by ${n(d.b5Half.worstSendDelayMs)} ms at worst; ` +
        `other work took ${n(d.b5Half.cpu.other, 2)} cores meanwhile.`,
      '',
    );
    const worst = d.b5Half.latencyMs.worstBySecondMs;
    if (worst !== undefined) lines.push(slowSecondsLine(worst, RATIO_TARGETS.B5.p999_ms_max), '');
    const toDelivery = d.b5Half.latencyMs.toDeliveryMs;
    if (toDelivery !== undefined) lines.push(toDeliveryLine(toDelivery), '');
  }
  if (d.b5Bare !== undefined) {
    const bare = d.b5Bare;
    const bareLoop = r.scenarios.B5?.bare_loop as BareLoop | undefined;
    lines.push(
      "**B5's limit, the bare parts** — right after B5, the same open loop at the same rate for as long, consumed by a bare kafkajs `eachBatch` loop that PUTs each message " +
        "as it came (its JSON as the body) with the bare signed PUTs of B3's limit, and records each order's latency at the PUT's answer; nothing is decoded, scored, tracked or committed " +
        `(bench/open-loop-floor.ts): p50 ${n(bare.latencyMs.p50, 1)}, p90 ${n(bare.latencyMs.p90, 1)}, p99 ${n(bare.latencyMs.p99, 1)}, p99.9 ${n(bare.latencyMs.p999, 1)}, max ${n(bare.latencyMs.max, 1)} ms, ` +
        `${n(bare.ordersPerS)} orders/s archived, ${n(bare.latencyMs.unfinished)} unacked at the deadline.` +
        (bareLoop === undefined ? '' : ` ${bareVerdict(bareLoop, r.scenarios.B5?.met === true)}.`),
      '',
    );
    if (bare.latencyMs.worstBySecondMs !== undefined) lines.push(slowSecondsLine(bare.latencyMs.worstBySecondMs, RATIO_TARGETS.B5.p999_ms_max), '');
    if (bare.latencyMs.toDeliveryMs !== undefined) lines.push(toDeliveryLine(bare.latencyMs.toDeliveryMs, 'the bare loop', "the PUT's answer"), '');
  }
  if (d.b5 !== undefined) {
    lines.push(
      '## Open-loop latency at 1,000 orders/s',
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

const CLIENT_LABELS: Readonly<Record<B3ClientName, string>> = {
  http: 'CosOrderArchive, COS_CLIENT=http (aws4 + Node http)',
  'ibm-cos-sdk': 'CosOrderArchive, COS_CLIENT=ibm-cos-sdk',
  'aws-sdk-v3': '@aws-sdk/client-s3 v3 alone (bare PutObjectCommand loop; not adopted)',
};

/** The object store clients side by side: the same PUTs of the same run, each against the bare loop (adr/0021). */
const clientsSection = (d: Details, b3: Scenario | undefined): string[] => {
  const clients = d.b3Clients ?? {};
  const names = (Object.keys(CLIENT_LABELS) as B3ClientName[]).filter((name) => clients[name] !== undefined);
  if (names.length === 0 || d.b3Floor === undefined) return [];
  const floor = d.b3Floor;
  const lines = [
    `**The object store clients alone** — the same ${n(floor.puts)} PUTs, ${floor.concurrency} at once, one client after the other in this run ` +
      `(the service ran B3 with COS_CLIENT=${String(b3?.cos_client ?? '?')}):`,
    '',
    '| client | PUTs/s | client CPU per PUT | × the bare loop | other work (cores) |',
    '|---|---|---|---|---|',
    `| bare signed PUTs, Node http (the limit) | ${n(floor.putsPerS)} | ${n(floor.cpuUsPerPut, 1)} µs | 1.00× | ${n(floor.cpu.other, 2)} |`,
    ...names.map((name) => {
      const run = clients[name]!;
      return `| ${CLIENT_LABELS[name]} | ${n(run.putsPerS)} | ${n(run.cpuUsPerPut, 1)} µs | ${n(run.cpuUsPerPut / floor.cpuUsPerPut, 2)}× | ${n(run.cpu.other, 2)} |`;
    }),
    '',
  ];
  const ibm = b3?.service_with_ibm_cos_sdk as { cpu_us_per_order: number | null; ratio: number | null; orders_per_s: number } | undefined;
  if (ibm !== undefined) {
    lines.push(
      `B3 once more with COS_CLIENT=ibm-cos-sdk: ${n(ibm.cpu_us_per_order ?? NaN, 1)} µs of service CPU per order (${n(ibm.ratio ?? NaN, 2)}× the bare loop), ` +
        `${n(ibm.orders_per_s)} orders/s, against ${n(b3?.figure as number, 1)} µs with ${String(b3?.cos_client)}.`,
      '',
    );
  }
  lines.push('The rest of B3\'s service CPU per order is Kafka, the stage runner and the core.', '');
  return lines;
};
