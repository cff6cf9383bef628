import type { CpuShares, Details, OpenLoopRun } from './report';

/**
 * The targets of issue 12. Each is a ratio to a limit that the same run measures beside the
 * scenario (absolute figures on these shared machines swing by 2× between runs with the code
 * unchanged), except B5's percentiles and B6's memory, which are absolute by nature. A figure is
 * compared with its target, never adjusted to it.
 */
export const RATIO_TARGETS = {
  /** B1's CPU per order at most 2× that of JSON.parse + JSON.stringify of the same messages. */
  B1: { max: 2 },
  /** B2's rate at least 85 % of the bare kafkajs eachBatch loop's on the same topic. */
  B2: { min: 0.85 },
  /** B3: the service's CPU per archived order at most 2× the bare PUT loop's CPU per PUT … */
  B3: { max: 2 },
  /** … and its rate at least 90 % of what the cores allow at the CPU costs it measured. */
  B3_rate: { min: 0.9 },
  /** B4: B3 at least 6× the seed design, the batched sink (B7) at least 200×. */
  B4: { min: 6 },
  B4_batched: { min: 200 },
  /** B5 at half the B3 capacity of the same run. */
  B5: { p99_ms_max: 50, p999_ms_max: 200 },
  /** B6: peak RSS at full rate with the documented flags, and flat over the soak at half capacity. */
  B6: { max_mb: 150, soak_max_deviation_pct: 10 },
  /** B7's rate at least 80 % of B2's. */
  B7: { min: 0.8 },
} as const;

/** One scenario in bench/results/latest.json: its figure, the limit measured beside it, their ratio, the target. */
export interface Scenario {
  readonly figure: number | null;
  readonly unit: string;
  readonly limit: number | null;
  readonly limit_unit: string;
  /** What the limit is, in words. */
  readonly limit_is: string;
  /** figure / limit (B5: offered rate / B3 capacity; B6: peak RSS / 150 MB). */
  readonly ratio: number | null;
  readonly target: Readonly<Record<string, number>>;
  readonly met: boolean;
  readonly [extra: string]: unknown;
}

export type ScenarioId = 'B1' | 'B2' | 'B3' | 'B4' | 'B5' | 'B6' | 'B7';
export type Scenarios = Partial<Record<ScenarioId, Scenario>>;

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const ratioOf = (figure: number | undefined, limit: number | undefined): number | null =>
  figure === undefined || limit === undefined || limit <= 0 ? null : round(figure / limit, 3);
const atMost = (ratio: number | null, max: number): boolean => ratio !== null && ratio <= max;
const atLeast = (ratio: number | null, min: number): boolean => ratio !== null && ratio >= min;

/** CPU microseconds per order a process spent, from the cores it kept busy and the rate. */
export const cpuUsPerOrder = (busyCores: number | undefined, ordersPerS: number): number | undefined =>
  busyCores === undefined || ordersPerS <= 0 ? undefined : (busyCores * 1e6) / ordersPerS;

/** Cores the processes measured kept busy, all of them (service, servers, harness, other work). */
export const busyCores = (cpu: CpuShares): number => (cpu.service ?? 0) + (cpu.minio ?? 0) + (cpu.kafka ?? 0) + (cpu.harness ?? 0) + (cpu.other ?? 0);

/**
 * B5's limit: the same open loop through the bare parts (bench/open-loop-floor.ts). Where they
 * miss a target too, nothing on this machine could meet it at this rate; `p99_ratio` says how
 * far the service's p99 is from theirs.
 */
const bareLoopOf = (bare: OpenLoopRun, serviceP99: number, cores: number) => ({
  is: 'the same open loop at the same rate for as long, right after B5: a bare kafkajs eachBatch consumer PUTting each message with bare signed PUTs, nothing decoded or committed',
  rate: bare.rate,
  archived_per_s: Math.round(bare.ordersPerS),
  p50_ms: bare.latencyMs.p50,
  p99_ms: bare.latencyMs.p99,
  p999_ms: bare.latencyMs.p999,
  max_ms: bare.latencyMs.max,
  unacked_at_deadline: bare.latencyMs.unfinished,
  p99_met: bare.latencyMs.p99 <= RATIO_TARGETS.B5.p99_ms_max,
  p999_met: bare.latencyMs.p999 <= RATIO_TARGETS.B5.p999_ms_max,
  p99_ratio: ratioOf(serviceP99, bare.latencyMs.p99),
  machine_busy: round(busyCores(bare.cpu) / cores, 2),
  cores: bare.cpu,
});

/**
 * How far any one-object-per-order design can outrun the seed here: B3's limit, the bare PUT loop
 * (no Kafka, nothing but signed PUTs of the same records, the cores saturated by it and MinIO), is
 * the most PUTs a second this machine does. Where it falls below 6× the seed design, B3 ≥ 6× is
 * out of reach of any service that writes an object per order, ours or another.
 */
export type BareLoop = ReturnType<typeof bareLoopOf>;
export type OnePutPerOrderLimit = ReturnType<typeof onePutPerOrderLimit>;

const onePutPerOrderLimit = (barePutsPerS: number, seedOrdersPerS: number) => {
  const ratio = ratioOf(barePutsPerS, seedOrdersPerS);
  return {
    is: "B3's limit, the bare signed PUT loop of the same records (no Kafka, nothing else), against the seed design",
    puts_per_s: Math.round(barePutsPerS),
    ratio: ratio === null ? null : round(ratio, 2),
    allows_target: atLeast(ratio, RATIO_TARGETS.B4.min),
  };
};

/** Orders/s the cores could sustain at the CPU per order that service, MinIO and Kafka spent. */
export const cpuCeiling = (ordersPerS: number, cpu: CpuShares, cores: number): number => {
  const busy = (cpu.service ?? 0) + (cpu.minio ?? 0) + (cpu.kafka ?? 0);
  return busy > 0 ? (cores * ordersPerS) / busy : 0;
};

/**
 * The soak's flatness: RSS is compared with its level once the service has warmed up (the mean
 * of the samples in the soak's second fifth: heap and key memory have grown to their working
 * size by then); the figure is the largest deviation from that level over the rest of the soak.
 */
export const soakDeviation = (samples: ReadonlyArray<readonly [number, number]>, durationS: number): { referenceMb: number; maxDeviationPct: number } | undefined => {
  const after = samples.filter(([t]) => t >= durationS / 5);
  const reference = after.filter(([t]) => t < (2 * durationS) / 5);
  if (reference.length === 0 || after.length < 2) return undefined;
  const referenceMb = reference.reduce((sum, [, mb]) => sum + mb, 0) / reference.length;
  const maxDeviationPct = Math.max(...after.map(([, mb]) => (Math.abs(mb - referenceMb) / referenceMb) * 100));
  return { referenceMb: round(referenceMb, 1), maxDeviationPct: round(maxDeviationPct, 1) };
};

export interface SlowSpan {
  /** Seconds of the measured window, from its start; `to` inclusive. */
  readonly from: number;
  readonly to: number;
  readonly worstMs: number;
}

/**
 * The seconds of an open loop whose worst order took longer than `overMs`, as runs of
 * consecutive seconds. One short span with a high worst is a stall that the orders behind it
 * waited out; many spans, or one that never ends, a queue the service does not drain.
 */
export const slowSeconds = (worstBySecondMs: readonly number[], overMs: number): { readonly count: number; readonly of: number; readonly spans: readonly SlowSpan[] } => {
  const spans: SlowSpan[] = [];
  let count = 0;
  worstBySecondMs.forEach((worst, second) => {
    if (worst <= overMs) return;
    count++;
    const last = spans[spans.length - 1];
    if (last !== undefined && last.to === second - 1) spans[spans.length - 1] = { ...last, to: second, worstMs: Math.max(last.worstMs, worst) };
    else spans.push({ from: second, to: second, worstMs: worst });
  });
  return { count, of: worstBySecondMs.length, spans };
};

/**
 * B1's µs per order by step, each measured alone in the same process (bench/core.ts). `floor_ratio`
 * is what decoding, the rest of the evaluation and serialising alone cost against the limit: the
 * part of the figure that no runner or bookkeeping change can remove.
 */
export const b1Steps = (steps: NonNullable<Details['b1']>['steps'], figure: number, limit: number): Readonly<Record<string, number | null>> => ({
  decode_us: round(steps.decodeUs, 2),
  evaluate_beyond_decode_us: round(steps.evaluateUs - steps.decodeUs, 2),
  serialise_us: round(steps.serialiseUs, 2),
  runner_write_bookkeeping_us: round(figure - steps.evaluateUs - steps.serialiseUs, 2),
  floor_ratio: ratioOf(steps.evaluateUs + steps.serialiseUs, limit),
});

/** Every scenario's figure, limit, ratio and verdict, from the run's details: the report and latest.json share it. */
export const scenariosOf = (d: Details, cores: number): Scenarios => {
  const s: { -readonly [K in ScenarioId]?: Scenario } = {};
  if (d.b1 !== undefined) {
    // CPU time where the run measured it (results before 2026-12-03 have wall time only).
    const figure = d.b1.cpuUsPerOrder ?? 1e6 / d.b1.ordersPerS;
    const limit = d.b1.jsonCpuUsPerMessage ?? 1e6 / d.b1.jsonOrdersPerS;
    const ratio = ratioOf(figure, limit);
    s.B1 = {
      figure: round(figure, 2),
      unit: 'µs CPU per order (one core)',
      limit: round(limit, 2),
      limit_unit: 'µs CPU per message',
      limit_is: 'JSON.parse + JSON.stringify of the same messages in a plain loop, same process, rounds alternating with the core',
      ratio,
      target: RATIO_TARGETS.B1,
      met: atMost(ratio, RATIO_TARGETS.B1.max),
      orders_per_s: Math.round(d.b1.ordersPerS),
      limit_messages_per_s: Math.round(d.b1.jsonOrdersPerS),
      ...(d.b1.steps === undefined ? {} : { steps: b1Steps(d.b1.steps, figure, limit) }),
    };
  }
  const bare = d.b2Floor?.find((f) => f.loop === 'kafkajs');
  if (d.b2 !== undefined) {
    const ratio = ratioOf(d.b2.ordersPerS, bare?.ordersPerS);
    s.B2 = {
      figure: Math.round(d.b2.ordersPerS),
      unit: 'orders/s',
      limit: bare === undefined ? null : Math.round(bare.ordersPerS),
      limit_unit: 'messages/s',
      limit_is: 'a bare kafkajs eachBatch loop that only counts the same pre-filled messages',
      ratio,
      target: RATIO_TARGETS.B2,
      met: atLeast(ratio, RATIO_TARGETS.B2.min),
      service_cpu_us_per_order: round(cpuUsPerOrder(d.b2.cpu.service, d.b2.ordersPerS) ?? NaN, 2),
      limit_cpu_us_per_message: bare === undefined ? null : round(cpuUsPerOrder(bare.cpu.service, bare.ordersPerS) ?? NaN, 2),
      // What the target asks against what JSON alone allows: had the core cost nothing but B1's
      // limit (JSON.parse + JSON.stringify), on the same thread as the fetch loop, B2 could reach
      // at most 1 / (1 / bare rate + JSON time per message).
      ratio_if_core_were_only_json:
        bare === undefined || d.b1 === undefined ? null : round(1 / (1 / bare.ordersPerS + 1 / d.b1.jsonOrdersPerS) / bare.ordersPerS, 3),
    };
  }
  if (d.b3 !== undefined && d.b3.ordersPerS > 0) {
    const service = cpuUsPerOrder(d.b3.cpu.service, d.b3.ordersPerS);
    const putFloor = d.b3Floor?.cpuUsPerPut;
    const ratio = ratioOf(service, putFloor);
    const ceiling = cpuCeiling(d.b3.ordersPerS, d.b3.cpu, cores);
    const rateRatio = ratioOf(d.b3.ordersPerS, ceiling);
    // Runs before adr/0021 had ibm-cos-sdk alone, and no cosClient.
    const cosClient = d.b3.cosClient ?? 'ibm-cos-sdk';
    const adapter = d.b3Clients?.[cosClient] ?? d.b3Adapter;
    s.B3 = {
      figure: round(service ?? NaN, 1),
      unit: 'µs of service CPU per archived order',
      limit: putFloor === undefined ? null : round(putFloor, 1),
      limit_unit: 'µs of client CPU per PUT',
      limit_is: "a bare loop of SigV4-signed PUTs of the same records over keep-alive with Node's own http client (bench/put-floor.ts)",
      ratio,
      target: RATIO_TARGETS.B3,
      met: atMost(ratio, RATIO_TARGETS.B3.max) && atLeast(rateRatio, RATIO_TARGETS.B3_rate.min),
      service_cpu_us_per_order: round(service ?? NaN, 1),
      orders_per_s: Math.round(d.b3.ordersPerS),
      rate: {
        figure: Math.round(d.b3.ordersPerS),
        limit: Math.round(ceiling),
        limit_is: `what ${cores} cores allow at the CPU per order the service, MinIO and Kafka spent in this scenario`,
        ratio: rateRatio,
        target: RATIO_TARGETS.B3_rate,
        met: atLeast(rateRatio, RATIO_TARGETS.B3_rate.min),
        // Beside it, not instead of it: the same ceiling on the cores other work left (the "other" share).
        limit_on_cores_left: d.b3.cpu.other === undefined ? null : Math.round(cpuCeiling(d.b3.ordersPerS, d.b3.cpu, Math.max(0.01, cores - d.b3.cpu.other))),
      },
      minio_cpu_us_per_order: round(cpuUsPerOrder(d.b3.cpu.minio, d.b3.ordersPerS) ?? NaN, 1),
      limit_puts_per_s: d.b3Floor === undefined ? null : Math.round(d.b3Floor.putsPerS),
      // The object store client's own share: the same PUTs through CosOrderArchive with the
      // configured client, beside the floor; then every client measured in the run (adr/0021).
      cos_client: cosClient,
      adapter_cpu_us_per_put: adapter === undefined ? null : round(adapter.cpuUsPerPut, 1),
      adapter_ratio: ratioOf(adapter?.cpuUsPerPut, putFloor),
      clients: Object.fromEntries(
        Object.entries(d.b3Clients ?? {}).map(([name, run]) => [name, { cpu_us_per_put: round(run.cpuUsPerPut, 1), ratio: ratioOf(run.cpuUsPerPut, putFloor) }]),
      ),
      ...(d.b3IbmCosSdk === undefined || d.b3IbmCosSdk.ordersPerS <= 0
        ? {}
        : {
            service_with_ibm_cos_sdk: {
              cpu_us_per_order: round(cpuUsPerOrder(d.b3IbmCosSdk.cpu.service, d.b3IbmCosSdk.ordersPerS) ?? NaN, 1),
              ratio: ratioOf(cpuUsPerOrder(d.b3IbmCosSdk.cpu.service, d.b3IbmCosSdk.ordersPerS), putFloor),
              orders_per_s: Math.round(d.b3IbmCosSdk.ordersPerS),
            },
          }),
    };
  }
  if (d.b4 !== undefined) {
    const figure = d.b3?.ordersPerS;
    const ratio = ratioOf(figure, d.b4.ordersPerS);
    const batchedRatio = ratioOf(d.b7?.ordersPerS, d.b4.ordersPerS);
    s.B4 = {
      figure: figure === undefined ? null : Math.round(figure),
      unit: 'orders/s (B3)',
      limit: round(d.b4.ordersPerS, 1),
      limit_unit: 'orders/s',
      limit_is: 'the seed design on the same data (eachMessage, one awaited PUT and one awaited commit per message)',
      ratio: ratio === null ? null : round(ratio, 1),
      target: RATIO_TARGETS.B4,
      met: atLeast(ratio, RATIO_TARGETS.B4.min) && atLeast(batchedRatio, RATIO_TARGETS.B4_batched.min),
      batched: { figure: d.b7 === undefined ? null : Math.round(d.b7.ordersPerS), ratio: batchedRatio === null ? null : round(batchedRatio, 1), target: RATIO_TARGETS.B4_batched, met: atLeast(batchedRatio, RATIO_TARGETS.B4_batched.min) },
      ...(d.b3Floor === undefined ? {} : { one_object_per_order_limit: onePutPerOrderLimit(d.b3Floor.putsPerS, d.b4.ordersPerS) }),
    };
  }
  const half = d.b5Half;
  if (half !== undefined) {
    const p99Met = half.latencyMs.p99 <= RATIO_TARGETS.B5.p99_ms_max;
    const p999Met = half.latencyMs.p999 <= RATIO_TARGETS.B5.p999_ms_max;
    s.B5 = {
      figure: half.latencyMs.p99,
      unit: 'ms p99, intended send → archive ack',
      limit: half.capacity,
      limit_unit: 'orders/s',
      limit_is: 'the B3 capacity of the same run; the scenario offers half of it',
      ratio: ratioOf(half.rate, half.capacity),
      target: RATIO_TARGETS.B5,
      met: p99Met && p999Met,
      rate: half.rate,
      p50_ms: half.latencyMs.p50,
      p99_ms: half.latencyMs.p99,
      p999_ms: half.latencyMs.p999,
      max_ms: half.latencyMs.max,
      unacked_at_deadline: half.latencyMs.unfinished,
      ...(half.latencyMs.worstBySecondMs === undefined
        ? {}
        : { slow_seconds: { over_ms: RATIO_TARGETS.B5.p999_ms_max, ...slowSeconds(half.latencyMs.worstBySecondMs, RATIO_TARGETS.B5.p999_ms_max) } }),
      ...(d.b5Bare === undefined ? {} : { bare_loop: bareLoopOf(d.b5Bare, half.latencyMs.p99, cores) }),
      ...(d.b5 === undefined
        ? {}
        : { at_1000: { rate: d.b5.rate, archived_per_s: Math.round(d.b5.ordersPerS), p50_ms: d.b5.latencyMs.p50, p99_ms: d.b5.latencyMs.p99, p999_ms: d.b5.latencyMs.p999 } }),
    };
  }
  if (d.b3 !== undefined) {
    const soak = d.b6Soak;
    const deviation = soak === undefined ? undefined : soakDeviation(soak.rssSamples, soak.durationS);
    const rss = round(d.b3.peakRssMb, 1);
    s.B6 = {
      figure: rss,
      unit: 'MB peak RSS of the service at full rate (B3)',
      limit: RATIO_TARGETS.B6.max_mb,
      limit_unit: 'MB',
      limit_is: 'the target itself (no same-run limit: memory does not depend on the machine load)',
      ratio: ratioOf(rss, RATIO_TARGETS.B6.max_mb),
      target: RATIO_TARGETS.B6,
      met: rss <= RATIO_TARGETS.B6.max_mb && deviation !== undefined && deviation.maxDeviationPct <= RATIO_TARGETS.B6.soak_max_deviation_pct,
      soak:
        soak === undefined
          ? null
          : {
              duration_s: soak.durationS,
              rate: soak.rate,
              short: soak.short,
              peak_rss_mb: round(soak.peakRssMb, 1),
              reference_mb: deviation?.referenceMb ?? null,
              max_deviation_pct: deviation?.maxDeviationPct ?? null,
              met: deviation !== undefined && deviation.maxDeviationPct <= RATIO_TARGETS.B6.soak_max_deviation_pct,
            },
    };
  }
  if (d.b7 !== undefined) {
    const ratio = ratioOf(d.b7.ordersPerS, d.b2?.ordersPerS);
    s.B7 = {
      figure: Math.round(d.b7.ordersPerS),
      unit: 'orders/s',
      limit: d.b2 === undefined ? null : Math.round(d.b2.ordersPerS),
      limit_unit: 'orders/s',
      limit_is: 'B2 of the same run',
      ratio,
      target: RATIO_TARGETS.B7,
      met: atLeast(ratio, RATIO_TARGETS.B7.min),
      service_cpu_us_per_order: round(cpuUsPerOrder(d.b7.cpu.service, d.b7.ordersPerS) ?? NaN, 2),
    };
  }
  return s;
};
