import { slowSeconds, soakDeviation, scenariosOf } from '../../../bench/scenarios';
import type { Details } from '../../../bench/report';

const cpu = (service: number, minio = 0) => ({ service, minio, kafka: 0, harness: 0, other: 0 });
const served = (ordersPerS: number, service: number, minio = 0) => ({
  acked: 1,
  complete: true,
  elapsedS: 1,
  ordersPerS,
  peakRssMb: 140,
  cpuS: service,
  cpu: cpu(service, minio),
});

describe('bench scenarios: figures against same-run limits', () => {
  it('compares B1 with its JSON limit as a cost ratio, B2 with the bare loop and B7 with B2 as rate ratios', () => {
    const details: Details = {
      // Wall time says 20 µs against 5 µs: the ratio is taken from the CPU times, 10 µs against 4.
      b1: {
        roundsOrdersPerS: [],
        ordersPerS: 50_000,
        roundsCpuUsPerOrder: [],
        cpuUsPerOrder: 10,
        jsonRoundsOrdersPerS: [],
        jsonOrdersPerS: 200_000,
        jsonRoundsCpuUsPerMessage: [],
        jsonCpuUsPerMessage: 4,
        steps: { decodeUs: 3, evaluateUs: 4, serialiseUs: 1.5 },
        peakRssMb: 100,
      },
      b2: served(90_000, 1),
      b2Floor: [{ loop: 'kafkajs', consumed: 1, complete: true, elapsedS: 1, ordersPerS: 100_000, cpuS: 0.5, peakRssMb: 80, cpu: cpu(0.5) }],
      b7: { ...served(63_000, 1), maxMessages: 1000, inFlightBudget: 12_000 },
    };
    const s = scenariosOf(details, 2);
    expect(s.B1).toMatchObject({ figure: 10, limit: 4, ratio: 2.5, met: false, orders_per_s: 50_000, limit_messages_per_s: 200_000 });
    // 10 µs per order: 4 evaluating (3 of them the codec), 1.5 serialising, 4.5 the rest; evaluating and serialising alone are 1.375× the limit.
    expect(s.B1!['steps']).toEqual({
      decode_us: 3,
      evaluate_beyond_decode_us: 1,
      serialise_us: 1.5,
      runner_write_bookkeeping_us: 4.5,
      floor_ratio: 1.375,
    });
    expect(s.B2).toMatchObject({ figure: 90_000, limit: 100_000, ratio: 0.9, met: true });
    // Results from before B1 measured CPU time are still rendered, from their wall times.
    const { cpuUsPerOrder, jsonCpuUsPerMessage, ...wallOnly } = details.b1!;
    expect([cpuUsPerOrder, jsonCpuUsPerMessage]).toEqual([10, 4]);
    expect(scenariosOf({ b1: wallOnly as typeof details.b1 }, 2).B1).toMatchObject({ figure: 20, limit: 5, ratio: 4 });
    expect(s.B7).toMatchObject({ figure: 63_000, limit: 90_000, ratio: 0.7, met: false });
  });

  it('meets B3 only when both its CPU ratio and its rate against the CPU ceiling meet their targets', () => {
    const b3 = { ...served(500, 0.5, 1.2), maxInFlight: 256, cosMaxConcurrency: 64 };
    const floor = { client: 'node-http' as const, puts: 1, elapsedS: 1, putsPerS: 1_000, cpuS: 1, cpuUsPerPut: 400, bodyBytes: 200, peakRssMb: 90, cpu: cpu(0.4, 1), concurrency: 64 };
    const s = scenariosOf({ b3, b3Floor: floor }, 2);
    // 1,000 µs of service CPU per order against 400 µs per bare PUT; the cores allow 2 / 1.7 × 500 orders/s.
    expect(s.B3).toMatchObject({ figure: 1000, limit: 400, ratio: 2.5, met: false, service_cpu_us_per_order: 1000 });
    expect(s.B3!.rate).toMatchObject({ limit: 588, ratio: 0.85, met: false });
  });

  it("reports the configured client's PUT cost as B3's adapter figure, every client's beside it, and B3 again with ibm-cos-sdk", () => {
    const floor = { client: 'node-http' as const, puts: 1, elapsedS: 1, putsPerS: 1_000, cpuS: 1, cpuUsPerPut: 400, bodyBytes: 200, peakRssMb: 90, cpu: cpu(0.4, 1), concurrency: 64 };
    const loop = (client: 'cos-archive-http' | 'cos-archive-ibm' | 'aws-sdk-v3', cpuUsPerPut: number) => ({ ...floor, client, cpuUsPerPut });
    const b3 = { ...served(1_000, 0.6, 1.2), maxInFlight: 256, cosMaxConcurrency: 64, cosClient: 'http' as const };
    const s = scenariosOf(
      {
        b3,
        b3Floor: floor,
        b3Clients: { http: loop('cos-archive-http', 440), 'ibm-cos-sdk': loop('cos-archive-ibm', 800), 'aws-sdk-v3': loop('aws-sdk-v3', 1_400) },
        b3IbmCosSdk: { ...served(800, 0.8, 1.2), maxInFlight: 256, cosMaxConcurrency: 64, cosClient: 'ibm-cos-sdk' },
      },
      2,
    );
    expect(s.B3).toMatchObject({
      // Still the service's CPU per order against the bare loop: 600 against 400 µs.
      figure: 600,
      ratio: 1.5,
      cos_client: 'http',
      adapter_cpu_us_per_put: 440,
      adapter_ratio: 1.1,
      clients: { http: { cpu_us_per_put: 440, ratio: 1.1 }, 'ibm-cos-sdk': { cpu_us_per_put: 800, ratio: 2 }, 'aws-sdk-v3': { cpu_us_per_put: 1400, ratio: 3.5 } },
      service_with_ibm_cos_sdk: { cpu_us_per_order: 1000, ratio: 2.5, orders_per_s: 800 },
    });
  });

  it('reads a run from before COS_CLIENT as ibm-cos-sdk, its adapter figure from b3Adapter', () => {
    const floor = { client: 'node-http' as const, puts: 1, elapsedS: 1, putsPerS: 1_000, cpuS: 1, cpuUsPerPut: 400, bodyBytes: 200, peakRssMb: 90, cpu: cpu(0.4, 1), concurrency: 64 };
    const b3 = { ...served(500, 0.5, 1.2), maxInFlight: 256, cosMaxConcurrency: 64 };
    const s = scenariosOf({ b3, b3Floor: floor, b3Adapter: { ...floor, cpuUsPerPut: 800 } }, 2);
    expect(s.B3).toMatchObject({ cos_client: 'ibm-cos-sdk', adapter_cpu_us_per_put: 800, adapter_ratio: 2, clients: {} });
  });

  it('measures the soak against its level after the warm-up fifth', () => {
    const samples = Array.from({ length: 100 }, (_, t) => [t, t < 20 ? 50 + t : t === 90 ? 110 : 100] as const);
    expect(soakDeviation(samples, 100)).toEqual({ referenceMb: 100, maxDeviationPct: 10 });
    expect(soakDeviation([], 100)).toBeUndefined();
  });

  it("groups B5's seconds whose worst order was over the target into spans: a stall against a queue", () => {
    // A 4.6 s stall at second 3 that the orders behind it wait out, then a lone slow second at 9.
    const stall = [20, 25, 30, 4_600, 3_700, 2_650, 1_600, 150, 40, 210];
    expect(slowSeconds(stall, 200)).toEqual({
      count: 5,
      of: 10,
      spans: [
        { from: 3, to: 6, worstMs: 4_600 },
        { from: 9, to: 9, worstMs: 210 },
      ],
    });
    expect(slowSeconds([10, 200, 30], 200)).toEqual({ count: 0, of: 3, spans: [] });
    const half = {
      rate: 500,
      capacity: 1_000,
      latencyMs: { count: 10, unfinished: 0, p50: 30, p90: 2_000, p99: 4_000, p999: 4_600, max: 4_600, worstBySecondMs: stall },
      ordersPerS: 500,
      measuredOrders: 5_000,
      worstSendDelayMs: 5,
      peakRssMb: 100,
      cpu: cpu(0.4, 0.5),
    };
    expect(scenariosOf({ b5Half: half }, 2).B5).toMatchObject({ met: false, slow_seconds: { over_ms: 200, count: 5, of: 10 } });
  });

  it("sets B5 beside the bare parts' open loop at the same rate: whether they meet the targets, and the service's p99 as a multiple of theirs", () => {
    const openLoop = (p99: number, p999: number, busy: { service: number; minio: number }) => ({
      rate: 600,
      latencyMs: { count: 36_000, unfinished: 0, p50: 15, p90: 30, p99, p999, max: p999 + 10 },
      ordersPerS: 600,
      measuredOrders: 36_000,
      worstSendDelayMs: 3,
      peakRssMb: 90,
      cpu: { ...cpu(busy.service, busy.minio), kafka: 0.2, harness: 0.2 },
    });
    const half = { ...openLoop(120, 300, { service: 0.4, minio: 0.8 }), capacity: 1_200 };
    const within = scenariosOf({ b5Half: half, b5Bare: openLoop(40, 150, { service: 0.1, minio: 0.7 }) }, 2).B5;
    expect(within).toMatchObject({ met: false, bare_loop: { p99_ms: 40, p99_met: true, p999_met: true, p99_ratio: 3, machine_busy: 0.6 } });
    const beyond = scenariosOf({ b5Half: half, b5Bare: openLoop(60, 250, { service: 0.1, minio: 0.7 }) }, 2).B5;
    expect(beyond).toMatchObject({ bare_loop: { p99_met: false, p999_met: false, p99_ratio: 2 } });
    expect(scenariosOf({ b5Half: half }, 2).B5).not.toHaveProperty('bare_loop');
  });

  it('sets B4 beside the bare PUT loop: whether any design writing one object per order could be 6x the seed design here', () => {
    const seed = { processed: 2_000, elapsedS: 2.9, ordersPerS: 700, writeMs: 1, commitMs: 0.4, peakRssMb: 120 };
    const putLoop = (putsPerS: number) => ({
      client: 'node-http' as const,
      puts: 10_000,
      elapsedS: 10_000 / putsPerS,
      putsPerS,
      cpuS: 1,
      cpuUsPerPut: 126,
      bodyBytes: 213,
      peakRssMb: 80,
      cpu: cpu(0.5, 1.4),
      concurrency: 64,
    });
    const details = (putsPerS: number): Details => ({ b3: { ...served(3_300, 0.7, 1.2), maxInFlight: 256, cosMaxConcurrency: 64 }, b4: seed, b3Floor: putLoop(putsPerS) });
    expect(scenariosOf(details(3_920), 2).B4).toMatchObject({ ratio: 4.7, met: false, one_object_per_order_limit: { puts_per_s: 3_920, ratio: 5.6, allows_target: false } });
    expect(scenariosOf(details(4_900), 2).B4).toMatchObject({ one_object_per_order_limit: { ratio: 7, allows_target: true } });
    expect(scenariosOf({ b4: seed }, 2).B4).not.toHaveProperty('one_object_per_order_limit');
  });
});
