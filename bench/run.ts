import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_LINGER_MS } from '../src/adapters/kafka/kafka-batching-publisher';
import { KafkaMessageBus } from '../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../src/adapters/kafka/kafka-topic-admin';
import { inFlightBudgetFor } from '../src/application/stages/batched-archive.stage';
import { KafkaSettings, SinkKind } from '../src/main/config';
import { loadConfig } from '../src/main/env-config';
import { machineBusySeconds, machineDescription, processCpuSeconds, RunningChild, startChild } from './child';
import type { BusFloorJob, BusFloorLoop, BusFloorResult } from './bus-floor';
import { ckjsInstalled, installCkjs } from './ckjs-install';
import type { CoreJob, CoreResult } from './core';
import { summarizeProfile } from './cpu-profile';
import { runApiBench, writeApiResults } from './api';
import { kafkaClientsOf, type ConsumeRound, type ProduceRun } from './kafka-clients';
import { openLoop, prefill } from './load';
import type { ProduceFloorClient, ProduceFloorJob, ProduceFloorResult } from './produce-floor';
import type { BarePutTarget } from './bare-put';
import type { OpenLoopFloorJob } from './open-loop-floor';
import type { PutFloorClient, PutFloorJob, PutFloorResult } from './put-floor';
import { B3ClientName, BenchResults, CpuShares, Details, OpenLoopRun, PutLoopRun, renderReport } from './report';
import { RATIO_TARGETS, scenariosOf } from './scenarios';
import type { SeedDesignJob, SeedDesignResult } from './seed-design';
import type { ServiceJob, ServiceResult } from './service';
import { BenchStack, createBucket, deleteBucket, ensureStack, REPO_ROOT } from './stack';

/** How much each scenario does; `--quick` keeps the whole run under five minutes on 2 cores. */
interface Plan {
  readonly coreOrders: number;
  readonly coreRounds: number;
  /** Pre-filled for B2 and B7. */
  readonly bulkOrders: number;
  /** Pre-filled for B3, B4 and the concurrency sweep. */
  readonly e2eOrders: number;
  /** Of those, how many B3 measures. */
  readonly e2eSample: number;
  readonly concurrencySweep: readonly number[];
  readonly sweepSample: number;
  readonly seedSample: number;
  /** PUTs of B3's limit (the bare loop) and of the adapter beside it. */
  readonly putFloorOrders: number;
  /** The open loop at 1,000 orders/s; B5 proper runs at half the B3 capacity for as long. */
  readonly latency: { readonly rate: number; readonly durationS: number; readonly warmupS: number; readonly drainS: number };
  /** B6's soak at half the B3 capacity. */
  readonly soakS: number;
  /** The soak is B5's half-capacity run (quick: one open loop serves both). */
  readonly soakIsB5: boolean;
  /** Further offered rates for the latency chart, each for rateSweepS. */
  readonly rateSweep: readonly number[];
  readonly rateSweepS: number;
  /** Further batch sizes for B7 besides the configured one. */
  readonly batchSweep: readonly number[];
  readonly profileCoreOrders: number;
  readonly profileE2eSample: number;
  /** Kafka clients: rounds of these loops on the B2 topic, alternating; these producers, each publishing produceOrders. */
  readonly kafkaClientRounds: number;
  readonly kafkaClientLoops: readonly BusFloorLoop[];
  readonly kafkaClientProducers: readonly ProduceFloorClient[];
  readonly produceOrders: number;
}

const FULL: Plan = {
  coreOrders: 200_000,
  coreRounds: 5,
  bulkOrders: 600_000,
  e2eOrders: 60_000,
  e2eSample: 60_000,
  concurrencySweep: [4, 8, 16, 32, 64, 128],
  sweepSample: 6_000,
  seedSample: 2_000,
  putFloorOrders: 10_000,
  latency: { rate: 1_000, durationS: 60, warmupS: 5, drainS: 240 },
  soakS: 600,
  soakIsB5: false,
  rateSweep: [100, 250, 500, 750],
  rateSweepS: 20,
  batchSweep: [100, 5_000],
  profileCoreOrders: 100_000,
  profileE2eSample: 8_000,
  kafkaClientRounds: 2,
  kafkaClientLoops: ['kafkajs', 'ckjs-batch-unbounded', 'ckjs-batch', 'ckjs-message'],
  kafkaClientProducers: ['kafkajs', 'port', 'ckjs'],
  produceOrders: 200_000,
};

// Sized for a slow host: a full quick run took 411 s where B1's JSON limit was 5.0 µs (2.6× the
// 1.9 µs of a quiet host), so each step here is about half of what it was.
const QUICK: Plan = {
  coreOrders: 60_000,
  coreRounds: 3,
  bulkOrders: 200_000,
  e2eOrders: 50_000,
  e2eSample: 5_000,
  // Not a scenario: the full run draws it; the quick one keeps its minutes for B5 and B6's soak.
  concurrencySweep: [],
  sweepSample: 2_000,
  seedSample: 300,
  putFloorOrders: 3_000,
  latency: { rate: 1_000, durationS: 10, warmupS: 3, drainS: 30 },
  soakS: 45,
  soakIsB5: true,
  rateSweep: [],
  rateSweepS: 0,
  batchSweep: [],
  profileCoreOrders: 50_000,
  profileE2eSample: 1_500,
  kafkaClientRounds: 1,
  // Each loop is a group join and a few seconds more: quick keeps the pair the decision rests on.
  kafkaClientLoops: ['kafkajs', 'ckjs-batch-unbounded'],
  kafkaClientProducers: ['kafkajs', 'ckjs'],
  produceOrders: 100_000,
};

/** The load generator's linger (B5, B6's soak): the publisher's default (see the generator's producer below). */
const LOAD_LINGER_MS = DEFAULT_LINGER_MS;

const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');
const PROFILES_DIR = path.join(RESULTS_DIR, 'profiles');
const LATEST = path.join(RESULTS_DIR, 'latest.json');
const script = (name: string): string => path.join(__dirname, `${name}.js`);

/**
 * How the service is run, per sink (adr/0010). With the per-order sink its heap is capped and its
 * young generation halved, so V8 collects before the heap grows to a few hundred MB on a host with
 * memory to spare (B6 is also measured without these flags, for comparison). The batched sink
 * holds whole batches in memory and runs without them: capped, its collector costs about a
 * quarter more CPU.
 */
const SERVICE_NODE_FLAGS: Readonly<Record<SinkKind, readonly string[]>> = {
  'per-order': ['--max-old-space-size=128', '--max-semi-space-size=8'],
  batched: [],
};
const PER_ORDER_FLAGS = SERVICE_NODE_FLAGS['per-order'];

const log = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

const main = async (): Promise<void> => {
  if (process.argv.includes('--report-only')) {
    renderReport(JSON.parse(readFileSync(LATEST, 'utf8')) as BenchResults, REPO_ROOT);
    log('docs/performance.md rendered from bench/results/latest.json');
    return;
  }
  const quick = process.argv.includes('--quick');
  const plan = quick ? QUICK : FULL;
  const started = Date.now();
  const loadAtStart = os.loadavg();
  log(`${quick ? 'quick' : 'full'} run; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);

  const stack = ensureStack();
  const runId = `bench-${Date.now().toString(36)}`;
  const bucket = `orderflow-${runId}`;
  // The service's own defaults (and any ORDERFLOW_*/COS_*/KAFKA_* tuning in the environment):
  // the benchmark measures the configuration `orderflow consume` would run with.
  const service = loadConfig(
    {
      ...process.env,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      COS_ENDPOINT: stack.cosEndpoint,
      COS_BUCKET: bucket,
      COS_ACCESS_KEY_ID: stack.cosCredentials.accessKeyId,
      COS_SECRET_ACCESS_KEY: stack.cosCredentials.secretAccessKey,
    },
    { bus: 'kafka', archive: 'cos' },
  );
  const cos = service.cos!;
  const { topicPartitions, compression, maxPartitionFetchBytes, fetchMinBytes, fetchMaxWaitMs } = service.kafka!;
  const kafka: KafkaSettings = {
    brokers: stack.kafkaBrokers,
    clientId: 'orderflow-bench',
    ssl: false,
    topicPartitions,
    createTopics: false,
    compression,
    ...(maxPartitionFetchBytes === undefined ? {} : { maxPartitionFetchBytes }),
    ...(fetchMinBytes === undefined ? {} : { fetchMinBytes }),
    ...(fetchMaxWaitMs === undefined ? {} : { fetchMaxWaitMs }),
  };
  const admin = new KafkaTopicAdmin({ brokers: stack.kafkaBrokers, clientId: 'orderflow-bench-admin' });
  // The load generator's producer: the service's own publisher with its default linger, as
  // `orderflow api` sends. Each order's latency runs from its intended send time, so the linger is
  // inside B5's figures. A 2 ms linger (until 2026-12-03) sent a produce request per order or two:
  // at 600/s that cost the broker, the generator and the service 0.3 cores more of the two the
  // service shares with them, and B5's p99 went from 297 and 93 ms to 69 and 54 ms at 10 ms,
  // alternating in one session (adr/0020).
  const publishing = { lingerMs: LOAD_LINGER_MS, maxBatchMessages: 5_000, maxBatchBytes: 1024 * 1024, compression };
  const producer = new KafkaMessageBus({ brokers: stack.kafkaBrokers, clientId: 'orderflow-bench-load' }, { publishing });
  const topics: string[] = [];
  const topic = async (name: string): Promise<string> => {
    const full = `${runId}-${name}`;
    await admin.ensureTopics([{ topic: full, partitions: topicPartitions }]);
    topics.push(full);
    return full;
  };
  rmSync(PROFILES_DIR, { recursive: true, force: true });
  mkdirSync(PROFILES_DIR, { recursive: true });
  await createBucket(stack, bucket);

  const details: { -readonly [K in keyof Details]?: Details[K] } = {};
  const failures: Record<string, string> = {};
  /**
   * `--only B2,profiles`: run only these parts (names as logged), to iterate on one scenario; the
   * results are written to bench/results/only.json, never over latest.json and the report.
   */
  const only = onlyArgument();
  /** A scenario that fails is reported as not measured, with its error; the others still run. */
  const attempt = async (name: string, scenario: () => Promise<void>): Promise<void> => {
    if (only !== undefined && !only.has(name)) return;
    try {
      await scenario();
    } catch (error) {
      failures[name] = error instanceof Error ? error.message : String(error);
      log(`${name} FAILED: ${failures[name]}`);
    }
  };

  const serviceJob = (overrides: Partial<ServiceJob> & Pick<ServiceJob, 'topic' | 'groupId' | 'prefix'>): ServiceJob => ({
    kafka,
    cos,
    archive: 'cos',
    sink: 'per-order',
    batch: service.batch,
    maxInFlight: service.maxInFlight,
    timeoutMs: 10 * 60_000,
    ...overrides,
  });

  /** The bench's bucket as the bare PUT loops reach it: B3's limit and B5's. */
  const barePutTarget: BarePutTarget = {
    endpoint: stack.cosEndpoint,
    bucket,
    accessKeyId: stack.cosCredentials.accessKeyId,
    secretAccessKey: stack.cosCredentials.secretAccessKey,
    // The adapter's signing region for HMAC (MinIO's default).
    region: 'us-east-1',
    concurrency: cos.maxConcurrency,
  };

  /** One service child, with where the CPU went between its first delivery and its last ack. */
  const measured = async (job: ServiceJob, nodeFlags = SERVICE_NODE_FLAGS[job.sink]): Promise<{ result: ServiceResult; cpu: CpuShares }> => {
    const child = startChild(script('service'), job, nodeFlags);
    const [result, cpu] = await Promise.all([child.result as Promise<ServiceResult>, accountCpu(stack, child)]);
    if (!result.complete) throw new Error(`only ${result.acked} of ${job.expect} orders were acked within ${job.timeoutMs / 1000} s`);
    return { result, cpu };
  };

  /**
   * B5 at one offered rate, on a topic of its own: the service joins first; the generator then
   * sends warm-up orders (not recorded: the consumer's first fetches and the JIT) and the measured
   * ones, each stamped with its intended send time; the service records each measured order's
   * latency at its ack and waits for all of them (or the drain deadline).
   */
  let openLoops = 0;
  /** `bare`: B5's limit, the same loop through a bare kafkajs consumer and bare PUTs (bench/open-loop-floor.ts). */
  const openLoopLatency = async (rate: number, durationS: number, warmupS: number, drainS: number, options: { sampleRss?: boolean; bare?: boolean } = {}) => {
    // A topic of its own per run: B6's soak offers the same rate as B5, and must not read B5's orders first.
    const latencyTopic = await topic(`latency-${rate}-${++openLoops}`);
    const child =
      options.bare === true
        ? startChild(script('open-loop-floor'), {
            kafkaBrokers: stack.kafkaBrokers,
            topic: latencyTopic,
            groupId: `${latencyTopic}-bare`,
            ...(maxPartitionFetchBytes === undefined ? {} : { maxBytesPerPartition: maxPartitionFetchBytes }),
            ...(fetchMinBytes === undefined ? {} : { minBytes: fetchMinBytes }),
            ...(fetchMaxWaitMs === undefined ? {} : { maxWaitTimeInMs: fetchMaxWaitMs }),
            ...barePutTarget,
            prefix: `b5-bare-${rate}/orders`,
            timeoutMs: drainS * 1000,
          } satisfies OpenLoopFloorJob)
        : startChild(
            script('service'),
            serviceJob({
              topic: latencyTopic,
              groupId: `${latencyTopic}-b5`,
              prefix: `b5-${rate}/orders`,
              latency: true,
              timeoutMs: drainS * 1000,
              ...(options.sampleRss === true ? { rssSampleMs: 1_000 } : {}),
            }),
            PER_ORDER_FLAGS,
          );
    await child.next('ready');
    const cpu = accountCpu(stack, child);
    const startAt = Date.now() + 500;
    const from = startAt + warmupS * 1000;
    child.send('measure', { from });
    const load = await openLoop(producer, { topic: latencyTopic, rate, startAt, durationMs: (warmupS + durationS) * 1000, runId: `${runId}-b5-${rate}` });
    const total = load.sent;
    const intendedAt = (i: number): number => Math.floor(startAt + (i * 1000) / rate);
    let measuredOrders = 0;
    for (let i = 0; i < total; i++) if (intendedAt(i) >= from) measuredOrders++;
    child.send('expect', { count: measuredOrders, lastIntendedAt: intendedAt(total - 1) });
    const [result, shares] = await Promise.all([child.result as Promise<ServiceResult>, cpu]);
    if (load.failed > 0) throw new Error(`${load.failed} of ${total} orders could not be published`);
    return {
      latencyMs: result.latencyMs!,
      ordersPerS: result.ordersPerS,
      measuredOrders,
      worstSendDelayMs: load.worstSendDelayMs,
      peakRssMb: result.peakRssMb,
      cpu: shares,
      rssSamples: result.rssSamples ?? [],
    };
  };

  try {
    await attempt('B1', async () => {
      log(`B1 core: ${plan.coreRounds} rounds of ${plan.coreOrders.toLocaleString('en-US')} orders (the first warms up)`);
      const core = (await startChild(script('core'), { orders: plan.coreOrders, rounds: plan.coreRounds, inFlight: service.maxInFlight } satisfies CoreJob, ['--expose-gc'])
        .result) as CoreResult;
      details.b1 = core;
    });

    const bulk = await topic('bulk');
    const e2e = await topic('e2e');
    log(`pre-filling ${bulk} with ${plan.bulkOrders.toLocaleString('en-US')} and ${e2e} with ${plan.e2eOrders.toLocaleString('en-US')} orders`);
    const prefillRate = await prefill(producer, bulk, plan.bulkOrders, `${runId}-bulk`);
    await prefill(producer, e2e, plan.e2eOrders, `${runId}-e2e`);
    details.prefill = { bulkOrders: plan.bulkOrders, e2eOrders: plan.e2eOrders, ordersPerS: Math.round(prefillRate) };

    await attempt('B2', async () => {
      log('B2 Kafka → decode → null archive');
      const { result, cpu } = await measured(serviceJob({ topic: bulk, groupId: `${runId}-b2`, prefix: 'b2', archive: 'null', expect: plan.bulkOrders }));
      details.b2 = { ...result, cpu };
    });

    /** One bare loop over the whole B2 topic, on a consumer group of its own. */
    const floorLoop = async (loop: BusFloorLoop, group: string, ckjsModule?: string): Promise<BusFloorResult & { cpu: CpuShares }> => {
      const job: BusFloorJob = {
        loop,
        kafkaBrokers: stack.kafkaBrokers,
        topic: bulk,
        groupId: `${runId}-${group}`,
        maxInFlight: service.maxInFlight,
        ...(maxPartitionFetchBytes === undefined ? {} : { maxBytesPerPartition: maxPartitionFetchBytes }),
        expect: plan.bulkOrders,
        timeoutMs: 10 * 60_000,
        ...(ckjsModule === undefined ? {} : { ckjsModule }),
      };
      const child = startChild(script('bus-floor'), job);
      const [result, cpu] = await Promise.all([child.result as Promise<BusFloorResult>, accountCpu(stack, child)]);
      if (!result.complete) throw new Error(`${loop}: only ${result.consumed} of ${job.expect} orders within ${job.timeoutMs / 1000} s`);
      return { ...result, cpu };
    };

    await attempt('B2 floor', async () => {
      const floor = [];
      for (const loop of ['kafkajs', 'port-batch', 'port-delivery'] satisfies BusFloorLoop[]) {
        log(`B2 floor: ${loop}, only acking`);
        floor.push(await floorLoop(loop, `b2-${loop}`));
      }
      details.b2Floor = floor;
    });

    await attempt('ckjs', async () => {
      // A full run builds it on demand (minutes, once per machine); the quick run stays within its five minutes.
      const cached = ckjsInstalled();
      if (quick && cached === undefined) {
        const reason = 'not installed (run `npm run bench -- --only ckjs` once)';
        log(`Kafka clients: confluent-kafka-javascript not measured: ${reason}`);
        details.kafkaClients = { notMeasured: reason, consume: [], produce: [] };
        return;
      }
      const install = cached ?? (await installCkjs(log));
      const consume: ConsumeRound[] = [];
      for (let round = 1; round <= plan.kafkaClientRounds; round++) {
        for (const loop of plan.kafkaClientLoops) {
          log(`Kafka clients, round ${round} of ${plan.kafkaClientRounds}: ${loop}, only counting`);
          consume.push({ ...(await floorLoop(loop, `clients-${loop}-${round}`, install.modulePath)), round });
        }
      }
      const produce: ProduceRun[] = [];
      for (const client of plan.kafkaClientProducers) {
        log(`Kafka clients: ${client} producer, ${plan.produceOrders.toLocaleString('en-US')} orders`);
        const job: ProduceFloorJob = {
          client,
          kafkaBrokers: stack.kafkaBrokers,
          topic: await topic(`produce-${client}`),
          messages: plan.produceOrders,
          runId: `${runId}-produce`,
          publishing,
          ckjsModule: install.modulePath,
        };
        const child = startChild(script('produce-floor'), job);
        const [result, cpu] = await Promise.all([child.result as Promise<ProduceFloorResult>, accountCpu(stack, child)]);
        produce.push({ ...result, cpu, publishing });
      }
      details.kafkaClients = { install, consume, produce };
    });

    const endOffsets = (await admin.consumerLag(`${runId}-none`, bulk)).partitions.map((p) => p.end);
    const batched = async (maxMessages: number): Promise<ServiceResult & { cpu: CpuShares; maxMessages: number }> => {
      const batch = { ...service.batch, maxMessages };
      // Every pre-filled order has the same event time, so only the count closes batches; the last,
      // partial batch of each partition stays open by design (adr/0011) and is not counted.
      const closable = endOffsets.reduce((sum, end) => sum + Math.floor(end / maxMessages) * maxMessages, 0);
      const { result, cpu } = await measured(
        serviceJob({ topic: bulk, groupId: `${runId}-b7-${maxMessages}`, prefix: `b7-${maxMessages}/orders`, sink: 'batched', batch, expect: closable }),
      );
      return { ...result, cpu, maxMessages };
    };
    await attempt('B7', async () => {
      log(`B7 batched sink, ${service.batch.maxMessages} messages per object`);
      const main = await batched(service.batch.maxMessages);
      const sweep = [main];
      for (const size of plan.batchSweep) {
        log(`B7 sweep: ${size} messages per object`);
        sweep.push(await batched(size));
      }
      details.b7 = { ...main, inFlightBudget: Math.max(service.maxInFlight, inFlightBudgetFor(service.batch, topicPartitions)) };
      details.batchSizeSweep = sweep.sort((a, b) => a.maxMessages - b.maxMessages).map(({ maxMessages, ordersPerS, peakRssMb, acked }) => ({
        maxMessages,
        ordersPerS: Math.round(ordersPerS),
        peakRssMb: Math.round(peakRssMb),
        acked,
      }));
    });

    await attempt('B3', async () => {
      log(`B3 Kafka → MinIO, one object per order: ${plan.e2eSample.toLocaleString('en-US')} of ${plan.e2eOrders.toLocaleString('en-US')} pre-filled`);
      const { result, cpu } = await measured(serviceJob({ topic: e2e, groupId: `${runId}-b3`, prefix: 'b3/orders', expect: plan.e2eSample }));
      details.b3 = { ...result, cpu, maxInFlight: service.maxInFlight, cosMaxConcurrency: cos.maxConcurrency, cosClient: cos.client };
      log(`B3's limit: bare signed PUTs of the same records with Node's http client (${plan.putFloorOrders.toLocaleString('en-US')})`);
      const floorJob: PutFloorJob = { client: 'node-http', ...barePutTarget, prefix: 'b3-floor/orders', orders: plan.putFloorOrders };
      const putLoop = async (job: PutFloorJob) => {
        const child = startChild(script('put-floor'), job);
        const [result, cpu] = await Promise.all([child.result as Promise<PutFloorResult>, accountCpu(stack, child)]);
        return { ...result, cpu, concurrency: job.concurrency };
      };
      details.b3Floor = await putLoop(floorJob);
      // Each client alone, the same PUTs, one after the other in this run (adr/0021).
      const clients: ReadonlyArray<readonly [B3ClientName, PutFloorClient, string]> = [
        ['http', 'cos-archive-http', 'CosOrderArchive with COS_CLIENT=http (aws4 + Node http)'],
        ['ibm-cos-sdk', 'cos-archive-ibm', 'CosOrderArchive with COS_CLIENT=ibm-cos-sdk'],
        // The client ADR 21 rejected: measured in full runs only, a quick one has no time to spare for it.
        ...(quick ? [] : [['aws-sdk-v3', 'aws-sdk-v3', 'a bare @aws-sdk/client-s3 v3 PutObjectCommand loop'] as const]),
      ];
      const b3Clients: { -readonly [K in B3ClientName]?: PutLoopRun } = {};
      for (const [name, client, what] of clients) {
        log(`B3 beside its limit: the same PUTs through ${what}`);
        b3Clients[name] = await putLoop({ ...floorJob, client, prefix: `b3-${client}/orders` });
      }
      details.b3Clients = b3Clients;
      // The configured client's, under the name earlier runs used for it.
      details.b3Adapter = b3Clients[cos.client];
      if (!quick && cos.client !== 'ibm-cos-sdk') {
        log(`B3 once more with COS_CLIENT=ibm-cos-sdk, side by side (${plan.e2eSample.toLocaleString('en-US')} orders)`);
        const again = await measured(serviceJob({ topic: e2e, groupId: `${runId}-b3-ibm`, prefix: 'b3-ibm/orders', cos: { ...cos, client: 'ibm-cos-sdk' }, expect: plan.e2eSample }));
        details.b3IbmCosSdk = { ...again.result, cpu: again.cpu, maxInFlight: service.maxInFlight, cosMaxConcurrency: cos.maxConcurrency, cosClient: 'ibm-cos-sdk' };
      }
      log(`B6 for comparison: the same service without ${PER_ORDER_FLAGS.join(' ')} (${plan.sweepSample.toLocaleString('en-US')} orders)`);
      const uncapped = await measured(serviceJob({ topic: e2e, groupId: `${runId}-b6`, prefix: 'b6/orders', expect: plan.sweepSample }), []);
      details.b6WithoutNodeFlags = { orders: plan.sweepSample, peakRssMb: Math.round(uncapped.result.peakRssMb), ordersPerS: Math.round(uncapped.result.ordersPerS) };
    });

    await attempt('sweep', async () => {
      const sweep = [];
      for (const concurrency of plan.concurrencySweep) {
        log(`PUT concurrency sweep: ${concurrency} (${plan.sweepSample.toLocaleString('en-US')} orders)`);
        const { result, cpu } = await measured(
          serviceJob({
            topic: e2e,
            groupId: `${runId}-c${concurrency}`,
            prefix: `c${concurrency}/orders`,
            cos: { ...cos, maxConcurrency: concurrency },
            // The subscription must offer at least as many orders as there are PUT slots.
            maxInFlight: Math.max(service.maxInFlight, 2 * concurrency),
            expect: plan.sweepSample,
          }),
        );
        sweep.push({ concurrency, ordersPerS: Math.round(result.ordersPerS), peakRssMb: Math.round(result.peakRssMb), cpu });
      }
      details.putConcurrencySweep = sweep;
    });

    await attempt('B4', async () => {
      log(`B4 the seed design (eachMessage, awaited PUT, commit per message): ${plan.seedSample} orders`);
      const job: SeedDesignJob = { kafkaBrokers: stack.kafkaBrokers, cos, topic: e2e, groupId: `${runId}-b4`, prefix: 'b4/orders', sample: plan.seedSample };
      const seed = (await startChild(script('seed-design'), job, PER_ORDER_FLAGS).result) as SeedDesignResult;
      details.b4 = seed;
    });

    await attempt('B5', async () => {
      const { rate, durationS, warmupS, drainS } = plan.latency;
      if (details.b3 === undefined) throw new Error('B3 was not measured, so its capacity (B5 runs at half of it) is unknown');
      const capacity = Math.round(details.b3.ordersPerS);
      const half = Math.max(1, Math.round(capacity / 2));
      const points: Array<OpenLoopRun & { rssSamples: ReadonlyArray<readonly [number, number]> }> = [];
      const seconds = plan.soakIsB5 ? plan.soakS : durationS;
      // The open loops ramp up, lowest rate first, as load tests do. The broker is a fresh JVM,
      // and until 2026-12-04 B5 proper came first. For its first 15 s or so, orders waited before
      // the service ever had them: p99 258–390 ms up to the handover, against 27–36 ms in the same
      // run's later loops, while the broker spent half as much CPU again. The bulk scenarios never
      // run the broker's small-produce and waiting-fetch paths that an open loop needs (adr/0020).
      const runs = [
        ...plan.rateSweep.map((offered) => ({ offered, forS: plan.rateSweepS, half: false })),
        { offered: rate, forS: durationS, half: false },
        { offered: half, forS: seconds, half: true },
      ].sort((a, b) => a.offered - b.offered);
      for (const { offered, forS, half: isHalf } of runs) {
        log(
          isHalf
            ? `B5 open loop at half the B3 capacity, ${offered}/s, for ${forS} s (+${warmupS} s warm-up)${plan.soakIsB5 ? "; RSS sampled: it is also B6's short soak" : ''}`
            : `B5 open loop at ${offered}/s for ${forS} s (+${warmupS} s warm-up)`,
        );
        const run = await openLoopLatency(offered, forS, warmupS, drainS, { sampleRss: isHalf && plan.soakIsB5 });
        if (isHalf) {
          details.b5Half = { ...withoutSamples(run), rate: offered, capacity };
          if (plan.soakIsB5) details.b6Soak = { ...withoutSamples(run), rate: offered, durationS: forS, short: true, rssSamples: run.rssSamples };
        } else if (offered === rate) details.b5 = withoutSamples({ ...run, rate: offered });
        points.push({ ...run, rate: offered });
      }
      // B5's limit, right after B5 on the same warm broker: the same rate for as long, through the
      // bare parts. If they miss the targets too, no service on this machine could meet them.
      log(`B5's limit: the same open loop at ${half}/s through a bare kafkajs consumer and bare signed PUTs, for ${seconds} s (+${warmupS} s warm-up)`);
      details.b5Bare = { ...withoutSamples(await openLoopLatency(half, seconds, warmupS, drainS, { bare: true })), rate: half };
      // In order of rate already: the loops ran that way.
      details.latencyVsRate = points
        .map((p) => {
          const { worstBySecondMs: _bySecond, ...percentiles } = p.latencyMs;
          return { rate: p.rate, ...percentiles, ordersPerS: Math.round(p.ordersPerS), otherCores: p.cpu.other };
        });
    });

    if (!plan.soakIsB5) {
      await attempt('B6 soak', async () => {
        if (details.b3 === undefined) throw new Error('B3 was not measured, so its capacity (the soak runs at half of it) is unknown');
        const half = Math.max(1, Math.round(details.b3.ordersPerS / 2));
        log(`B6 soak at half the B3 capacity, ${half}/s, for ${plan.soakS} s, RSS sampled every second`);
        const soak = await openLoopLatency(half, plan.soakS, plan.latency.warmupS, plan.latency.drainS, { sampleRss: true });
        details.b6Soak = { ...withoutSamples(soak), rate: half, durationS: plan.soakS, short: false, rssSamples: soak.rssSamples };
      });
    }

    await attempt('API', async () => writeApiResults(await runApiBench({ stack, quick, log })));

    await attempt('profiles', async () => {
      log('profiling B1 (core), B2 (service, null archive), B3 (service, per-order) and B7 (service, batched) with node --cpu-prof');
      await startChild(script('core'), { orders: plan.profileCoreOrders, rounds: 2, inFlight: service.maxInFlight } satisfies CoreJob, cpuProf('core')).result;
      await startChild(
        script('service'),
        serviceJob({ topic: bulk, groupId: `${runId}-profile-b2`, prefix: 'profile-b2', archive: 'null', expect: Math.min(plan.bulkOrders, 100_000) }),
        cpuProf('null-archive'),
      ).result;
      await startChild(
        script('service'),
        serviceJob({ topic: e2e, groupId: `${runId}-profile`, prefix: 'profile/orders', expect: plan.profileE2eSample }),
        [...PER_ORDER_FLAGS, ...cpuProf('e2e')],
      ).result;
      const closable = endOffsets.reduce((sum, end) => sum + Math.floor(end / service.batch.maxMessages) * service.batch.maxMessages, 0);
      await startChild(
        script('service'),
        serviceJob({ topic: bulk, groupId: `${runId}-profile-b7`, prefix: 'profile-b7/orders', sink: 'batched', batch: service.batch, expect: closable }),
        cpuProf('batched'),
      ).result;
      details.profiles = {
        core: summarizeProfile(path.join(PROFILES_DIR, 'core.cpuprofile')),
        nullArchive: summarizeProfile(path.join(PROFILES_DIR, 'null-archive.cpuprofile')),
        e2e: summarizeProfile(path.join(PROFILES_DIR, 'e2e.cpuprofile')),
        batched: summarizeProfile(path.join(PROFILES_DIR, 'batched.cpuprofile')),
      };
    });
  } finally {
    log('cleaning up: topics and bucket of this run');
    await admin.deleteTopics(topics).catch((error: unknown) => log(`could not delete topics ${topics.join(', ')}: ${String(error)}`));
    await deleteBucket(stack, bucket).catch((error: unknown) => log(`could not delete bucket ${bucket}: ${String(error)}`));
    await producer.close();
    await admin.close();
  }

  const output: BenchResults = {
    mode: quick ? 'quick' : 'full',
    started_at: new Date(started).toISOString(),
    duration_s: Math.round((Date.now() - started) / 1000),
    scenarios: scenariosOf(details, os.cpus().length),
    targets: RATIO_TARGETS,
    ...(details.kafkaClients === undefined ? {} : { kafka_clients: kafkaClientsOf(details.kafkaClients) }),
    machine: machineDescription(loadAtStart, stack.source),
    settings: {
      partitions: topicPartitions,
      compression,
      max_partition_fetch_bytes: maxPartitionFetchBytes ?? null,
      fetch_min_bytes: fetchMinBytes ?? null,
      fetch_max_wait_ms: fetchMaxWaitMs ?? null,
      load_linger_ms: LOAD_LINGER_MS,
      service_node_flags: SERVICE_NODE_FLAGS,
      max_in_flight: service.maxInFlight,
      cos_max_concurrency: cos.maxConcurrency,
      cos_client: cos.client,
      batch: service.batch,
      plan,
    },
    details,
    failures,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (only !== undefined) {
    writeFileSync(path.join(RESULTS_DIR, 'only.json'), `${JSON.stringify(output, null, 2)}\n`);
    log(`done in ${output.duration_s} s: bench/results/only.json written (--only: latest.json and the report are left as they were)`);
    return;
  }
  writeFileSync(LATEST, `${JSON.stringify(output, null, 2)}\n`);
  renderReport(output, REPO_ROOT);
  log(`done in ${output.duration_s} s: bench/results/latest.json and docs/performance.md written`);
  if (Object.keys(failures).length > 0) process.exitCode = 1;
};

const onlyArgument = (): Set<string> | undefined => {
  const index = process.argv.indexOf('--only');
  if (index < 0) return undefined;
  const list = process.argv[index + 1];
  if (list === undefined || list.startsWith('--')) throw new Error('--only needs a comma-separated list of parts, e.g. --only B2,profiles');
  return new Set(list.split(',').map((name) => name.trim()));
};

const withoutSamples = <T extends { rssSamples?: unknown }>(run: T): Omit<T, 'rssSamples'> => {
  const { rssSamples: _samples, ...rest } = run;
  return rest;
};


interface CpuSnapshot {
  readonly at: number;
  readonly machine: number | undefined;
  readonly service: number | undefined;
  readonly minio: number | undefined;
  readonly kafka: number | undefined;
  readonly harness: number | undefined;
}

const snapshot = (stack: BenchStack, servicePid: number): CpuSnapshot => ({
  at: performance.now(),
  machine: machineBusySeconds(),
  service: processCpuSeconds(servicePid),
  minio: stack.pids.minio === undefined ? undefined : processCpuSeconds(stack.pids.minio),
  kafka: stack.pids.kafka === undefined ? undefined : processCpuSeconds(stack.pids.kafka),
  harness: processCpuSeconds(process.pid),
});

/**
 * Cores each process kept busy while the service worked, and what the rest of the machine used:
 * on a shared 2-core host the "other" share says how much the figures were disturbed.
 */
const accountCpu = async (stack: BenchStack, child: RunningChild): Promise<CpuShares> => {
  await child.next('first-delivery');
  const before = snapshot(stack, child.pid);
  await child.next('done');
  const after = snapshot(stack, child.pid);
  const seconds = (after.at - before.at) / 1000;
  const cores = (pick: (s: CpuSnapshot) => number | undefined): number | undefined => {
    const [a, b] = [pick(before), pick(after)];
    return a === undefined || b === undefined || seconds <= 0 ? undefined : Math.round(((b - a) / seconds) * 100) / 100;
  };
  const shares = { service: cores((s) => s.service), minio: cores((s) => s.minio), kafka: cores((s) => s.kafka), harness: cores((s) => s.harness) };
  const machine = cores((s) => s.machine);
  const ours = Object.values(shares).reduce<number>((sum, share) => sum + (share ?? 0), 0);
  return { ...shares, other: machine === undefined ? undefined : Math.max(0, Math.round((machine - ours) * 100) / 100) };
};

const cpuProf = (name: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${PROFILES_DIR}`, `--cpu-prof-name=${name}.cpuprofile`];

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
