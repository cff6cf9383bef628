import autocannon from 'autocannon';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { createPinoLogger, PinoLogger } from '../src/adapters/pino/pino-logger';
import { createPostgresPool, DEFAULT_MAX_CONNECTIONS, quoteIdentifier } from '../src/adapters/postgres/postgres-connection';
import { PostgresOrderView } from '../src/adapters/postgres/postgres-order-view';
import { KafkaTopicAdmin } from '../src/adapters/kafka/kafka-topic-admin';
import { eventIdOf } from '../src/domain/lifecycle/event-id';
import { OrderPlaced, SCHEMA_VERSION } from '../src/domain/lifecycle/events';
import { readStackEnvFile } from '../scripts/stack/stack-env-file';
import type { ApiServerJob, ApiServerReady, ApiServerResult } from './api-server';
import { API_RESULTS_FILE, ApiPlan as Plan, MAX_REQUESTS_PER_SOCKET, ApiResults, CpuShares, OpenLoopPoint, Percentiles, Saturation } from './api-report';
import { machineBusySeconds, machineDescription, processCpuSeconds, RunningChild, startChild } from './child';
import { OrderFactory } from './load';
import { BenchStack, ensureStack, REPO_ROOT } from './stack';

/**
 * The HTTP order API's figures (issue 11), each beside a limit measured in the same run (issue 12):
 * - A1, POST /orders at saturation (autocannon, unique ids; a 201 is the broker's acks=all), beside
 *   autocannon against a trivial fastify POST route in the same kind of process: what HTTP and
 *   JSON alone allow on this machine;
 * - A2, POST /orders at fixed rates (half of A1, and 200/s), open loop, each request's latency
 *   from its intended send time (no coordinated omission), beside the trivial route at the same rates;
 * - A3, GET /orders/{id} against PostgreSQL with 100,000 orders in the view (5,000 with --quick),
 *   random existing ids, beside the trivial route answering the same JSON.
 *
 * The API runs in a child process (api-server.ts), as `orderflow api` runs on Kafka with
 * DATABASE_URL: no stage in it, and no order-view stage anywhere. None of the three figures goes
 * through that stage (the 201 comes at the broker's ack; A3's view is filled by
 * PostgresOrderView.apply, the call the stage makes per event), and on two cores a consumer
 * applying every POSTed order would take CPU from the process being measured.
 */

const FULL: Plan = {
  saturation: { postConnections: 64, getConnections: 16, warmupS: 5, durationS: 30 },
  openLoop: { fixedRate: 200, warmupS: 3, durationS: 30, drainS: 30 },
  viewOrders: 100_000,
  fillConcurrency: 32,
};

const QUICK: Plan = {
  saturation: { postConnections: 64, getConnections: 16, warmupS: 2, durationS: 5 },
  openLoop: { fixedRate: 200, warmupS: 1, durationS: 4, drainS: 15 },
  // Filling the view is the longest step of a quick run (about 475 orders/s on a slow host).
  viewOrders: 5_000,
  fillConcurrency: 32,
};

export const API_RESULTS = path.join(REPO_ROOT, API_RESULTS_FILE);

/** The API listens on this port and the floor on the next (below 32768: never an ephemeral port). */
const HTTP_PORT_BASE = ((): number => {
  const raw = process.env.ORDERFLOW_BENCH_HTTP_PORT ?? '18080';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 32_766) throw new Error(`ORDERFLOW_BENCH_HTTP_PORT is invalid: expected a port from 1 to 32766, got ${JSON.stringify(raw)}`);
  return port;
})();

// ---- CPU accounting, as the harness's accountCpu does it for the service ----


const cpuMeter = (serverPid: number, kafkaPid: number | undefined): (() => CpuShares) => {
  const take = () => ({
    at: performance.now(),
    server: processCpuSeconds(serverPid),
    kafka: kafkaPid === undefined ? undefined : processCpuSeconds(kafkaPid),
    harness: processCpuSeconds(process.pid),
    machine: machineBusySeconds(),
  });
  const before = take();
  return () => {
    const after = take();
    const seconds = (after.at - before.at) / 1000;
    const cores = (a: number | undefined, b: number | undefined): number | undefined =>
      a === undefined || b === undefined || seconds <= 0 ? undefined : Math.round(((b - a) / seconds) * 100) / 100;
    const server = cores(before.server, after.server);
    const kafka = cores(before.kafka, after.kafka);
    const harness = cores(before.harness, after.harness);
    const machine = cores(before.machine, after.machine);
    const ours = (server ?? 0) + (kafka ?? 0) + (harness ?? 0);
    return { server, kafka, harness, other: machine === undefined ? undefined : Math.max(0, Math.round((machine - ours) * 100) / 100) };
  };
};

// ---- Load ----

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * autocannon for `seconds` with `connections`, each request built by `build` (a unique body or a
 * random id); only answers with `counted` status count towards the rate.
 */
const saturate = async (
  url: string,
  seconds: number,
  connections: number,
  request: { method: 'POST' | 'GET'; build: () => { path: string; body?: string } },
  counted: number,
  meter?: () => () => CpuShares,
  serverCpu?: () => number | undefined,
): Promise<Saturation> => {
  const stopMeter = meter?.();
  const cpuBefore = serverCpu?.();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    // The servers close a socket after MAX_REQUESTS_PER_SOCKET answers (Connection: close, then
    // 503 for anything more on it); autocannon does not heed the header, so it reconnects itself.
    // It leaves the one answer at each reconnect out of its statistics: 0.1 % of them.
    reconnectRate: MAX_REQUESTS_PER_SOCKET,
    requests: [
      {
        method: request.method,
        headers: request.method === 'POST' ? { 'content-type': 'application/json' } : {},
        setupRequest: (req) => ({ ...req, ...request.build() }),
      },
    ],
  });
  const cpu = stopMeter?.() ?? {};
  const cpuAfter = serverCpu?.();
  const answered = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]));
  const good = answered[String(counted)] ?? 0;
  const perS = good / result.duration;
  return {
    connections,
    duration_s: round2(result.duration),
    per_s: Math.round(perS),
    answered,
    errors: result.errors,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    p999_ms: result.latency.p99_9,
    cpu,
    ...(cpuBefore === undefined || cpuAfter === undefined || good === 0 ? {} : { server_cpu_us_per_request: Math.round(((cpuAfter - cpuBefore) * 1e6) / good) }),
  };
};

const percentiles = (sorted: readonly number[]): Percentiles => {
  const at = (p: number): number => round2(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0);
  return { p50_ms: at(50), p90_ms: at(90), p99_ms: at(99), p999_ms: at(99.9), max_ms: round2(sorted[sorted.length - 1] ?? 0) };
};

/**
 * POSTs at a fixed rate, open loop: request i is due at start + i / rate and is sent then or as
 * soon after as the sender gets to it, never later because the server was slow; its latency runs
 * from that intended time to the end of its answer. Keep-alive sockets, as many as the load needs.
 */
const openLoopPost = async (
  url: string,
  rate: number,
  plan: Plan['openLoop'],
  body: () => string,
  meter: () => () => CpuShares,
): Promise<OpenLoopPoint> => {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1_024 });
  const warmup = Math.round(rate * plan.warmupS);
  const total = warmup + Math.round(rate * plan.durationS);
  const startAt = performance.now() + 100;
  const intendedAt = (i: number): number => startAt + (i * 1000) / rate;
  const latencies: number[] = [];
  let failed = 0;
  let answered = 0;
  let worstSendDelayMs = 0;
  let stopMeter: (() => CpuShares) | undefined;
  let allAnswered!: () => void;
  const finished = new Promise<void>((resolve) => (allAnswered = resolve));
  const outstanding = new Map<number, number>();
  const settle = (i: number, ok: boolean): void => {
    if (!outstanding.delete(i)) return;
    if (i >= warmup) {
      latencies.push(performance.now() - intendedAt(i));
      if (!ok) failed++;
    }
    if (++answered === total) allAnswered();
  };
  const send = (i: number): void => {
    const payload = body();
    outstanding.set(i, intendedAt(i));
    const req = http.request(
      { agent, hostname, port, method: 'POST', path: '/orders', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on('end', () => settle(i, res.statusCode === 201));
        res.on('error', () => settle(i, false));
      },
    );
    req.on('error', () => settle(i, false));
    req.end(payload);
  };
  let next = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - startAt) * rate) / 1000) + 1);
    if (due > next) {
      worstSendDelayMs = Math.max(worstSendDelayMs, now - intendedAt(next));
      for (; next < due; next++) {
        if (next === warmup) stopMeter = meter();
        send(next);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(intendedAt(next) - performance.now(), 5))));
  }
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((resolve) => (deadline = setTimeout(resolve, plan.drainS * 1000)))]);
  clearTimeout(deadline);
  const cpu = stopMeter?.() ?? {};
  // Requests never answered count at the age they reached: leaving them out would flatter the tail.
  const unfinished = [...outstanding.entries()].filter(([i]) => i >= warmup);
  for (const [, intended] of unfinished) latencies.push(performance.now() - intended);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate,
    measured: total - warmup,
    failed: failed + unfinished.length,
    unfinished: unfinished.length,
    worst_send_delay_ms: round1(worstSendDelayMs),
    ...percentiles(latencies),
    cpu,
  };
};

// ---- The view ----

/** Placed events as the validation stage emits them (eventIdOf, two lines, an address). */
const placedEvent = (orderId: string, i: number, baseMs: number): OrderPlaced => ({
  event_id: eventIdOf(orderId, 'placed'),
  event_type: 'placed',
  order_id: orderId,
  occurred_at: new Date(baseMs + i).toISOString(),
  schema_version: SCHEMA_VERSION,
  customer: `C-${i % 997}`,
  total: 7,
  currency: 'EUR',
  channel: 'web',
  risk_score: 0.007,
  high_risk: false,
  items: [
    { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
    { sku: 'MILK', quantity: 1, unit_price: 4 },
  ],
  shipping_address: { street: 'Main St 1', city: 'Springfield' },
});

/** Fills the view through the store's own apply (one transaction per event, as the stage does), `concurrency` at a time. */
const fillView = async (pool: Pool, ids: readonly string[], concurrency: number, topic: string): Promise<number> => {
  const view = new PostgresOrderView(pool, { logger: new PinoLogger(createPinoLogger('warn')) });
  const baseMs = Date.now();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const outcome = await view.apply(placedEvent(ids[i]!, i, baseMs), topic);
        if (outcome.kind !== 'applied') throw new Error(`Filling the view: order ${ids[i]} was ${outcome.kind}, not applied`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await view.close();
  return seconds;
};

// ---- The scenario ----

const databaseUrlOf = (stack: BenchStack): string => {
  if (stack.stackDir === undefined) {
    const url = process.env.DATABASE_URL;
    if (url === undefined || url.trim() === '') throw new Error('The API scenario needs DATABASE_URL beside KAFKA_BROKERS and COS_ENDPOINT');
    return url;
  }
  return readStackEnvFile(path.join(stack.stackDir, 'env'))('DATABASE_URL');
};

const script = path.join(__dirname, 'api-server.js');

/**
 * The migrations are SQL files beside the compiled adapter, which tsc does not copy into the
 * bench's build: copied here, as `npm run build`'s postbuild copies them into dist/.
 */
const copyMigrations = (): void => {
  const relative = path.join('src', 'adapters', 'postgres', 'migrations');
  const to = path.join(__dirname, '..', relative);
  rmSync(to, { recursive: true, force: true });
  cpSync(path.join(REPO_ROOT, relative), to, { recursive: true });
};

const startServer = async (job: ApiServerJob): Promise<{ child: RunningChild; ready: ApiServerReady }> => {
  const child = startChild(script, job);
  const ready = (await child.next<ApiServerReady>('ready')).payload!;
  return { child, ready };
};

const stopServer = async (child: RunningChild): Promise<ApiServerResult> => {
  child.send('stop');
  const result = (await child.result) as ApiServerResult;
  return { cpuS: round2(result.cpuS), peakRssMb: round1(result.peakRssMb) };
};

/** After a failure: asks a server to stop (it may be gone already) and waits for it to exit. */
const stopQuietly = async (child: RunningChild): Promise<void> => {
  try {
    child.send('stop');
  } catch {
    // Exited already: its IPC channel is closed.
  }
  await child.result.catch(() => undefined);
};

export interface ApiBenchOptions {
  readonly stack: BenchStack;
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

export const runApiBench = async ({ stack, quick, log }: ApiBenchOptions): Promise<ApiResults> => {
  const plan = quick ? QUICK : FULL;
  const started = Date.now();
  const loadAtStart = os.loadavg();
  const runId = `apibench-${Date.now().toString(36)}`;
  const schema = runId.replace(/-/g, '_');
  const databaseUrl = databaseUrlOf(stack);
  const admin = new KafkaTopicAdmin({ brokers: stack.kafkaBrokers, clientId: 'orderflow-bench-api-admin' });
  const n = (x: number): string => x.toLocaleString('en-US');

  copyMigrations();
  log(`API: starting orderflow api (Kafka, PostgreSQL schema ${schema}) on :${HTTP_PORT_BASE} and the floor on :${HTTP_PORT_BASE + 1}`);
  const api = await startServer({ mode: 'orders', port: HTTP_PORT_BASE, kafkaBrokers: stack.kafkaBrokers, topicPrefix: `${runId}-`, databaseUrl, schema });
  const floor = await startServer({ mode: 'floor', port: HTTP_PORT_BASE + 1 }).catch(async (error: unknown) => {
    await stopQuietly(api.child);
    throw error;
  });
  const pool = createPostgresPool({ url: databaseUrl, schema, maxConnections: plan.fillConcurrency }, new PinoLogger(createPinoLogger('warn')));
  const apiMeter = () => cpuMeter(api.child.pid, stack.pids.kafka);
  const floorMeter = () => cpuMeter(floor.child.pid, stack.pids.kafka);
  const apiCpu = () => processCpuSeconds(api.child.pid);
  const floorCpu = () => processCpuSeconds(floor.child.pid);
  let processes: { api: ApiServerResult; floor: ApiServerResult } | undefined;
  try {
    // Every POST a body of its own: the generator's order, with an id no request used before.
    const template = JSON.parse(String(new OrderFactory(runId).next(Date.now()).value)) as Record<string, unknown>;
    let posted = 0;
    const postBody = (): string => JSON.stringify({ ...template, id: `${runId}-p-${posted++}` });
    const post = { method: 'POST' as const, build: () => ({ path: '/orders', body: postBody() }) };
    const { postConnections, getConnections, warmupS, durationS } = plan.saturation;
    // One order first, so that no measurement includes the producer's connection and the
    // idempotent producer's id (which waits while the broker loads its coordinator).
    const first = await fetch(`${api.ready.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: postBody() });
    if (first.status !== 201) throw new Error(`The first POST /orders answered ${first.status}, not 201: ${(await first.text()).slice(0, 300)}`);

    log(`A1 POST /orders at saturation: ${postConnections} connections, ${warmupS} s warm-up + ${durationS} s, floor first`);
    await saturate(floor.ready.url, warmupS, postConnections, post, 201);
    const postFloor = await saturate(floor.ready.url, durationS, postConnections, post, 201, floorMeter, floorCpu);
    await saturate(api.ready.url, warmupS, postConnections, post, 201);
    const postApi = await saturate(api.ready.url, durationS, postConnections, post, 201, apiMeter, apiCpu);
    log(`A1: ${n(postApi.per_s)} orders/s (p50 ${postApi.p50_ms} ms, p99 ${postApi.p99_ms} ms); floor ${n(postFloor.per_s)}/s`);
    if (postApi.per_s === 0) throw new Error(`No POST was answered 201: ${JSON.stringify(postApi.answered)}`);

    const half = Math.max(1, Math.round(postApi.per_s / 2 / 10) * 10);
    const rates = [...new Set([half, plan.openLoop.fixedRate])].sort((a, b) => b - a);
    const apiPoints: OpenLoopPoint[] = [];
    const floorPoints: OpenLoopPoint[] = [];
    for (const rate of rates) {
      log(`A2 POST /orders open loop at ${n(rate)}/s: ${plan.openLoop.warmupS} s warm-up + ${plan.openLoop.durationS} s, floor first`);
      floorPoints.push(await openLoopPost(floor.ready.url, rate, plan.openLoop, postBody, floorMeter));
      apiPoints.push(await openLoopPost(api.ready.url, rate, plan.openLoop, postBody, apiMeter));
      const last = apiPoints[apiPoints.length - 1]!;
      log(`A2 at ${n(rate)}/s: p50 ${last.p50_ms} ms, p99 ${last.p99_ms} ms, ${last.failed} failed; floor p99 ${floorPoints[floorPoints.length - 1]!.p99_ms} ms`);
    }

    log(`A3 filling the view with ${n(plan.viewOrders)} orders through PostgresOrderView.apply, ${plan.fillConcurrency} at a time`);
    const ids = Array.from({ length: plan.viewOrders }, (_, i) => `${runId}-v-${i}`);
    const fillS = await fillView(pool, ids, plan.fillConcurrency, `${runId}-orders.validated`);
    const counted = Number((await pool.query<{ count: string }>('SELECT count(*) FROM order_view')).rows[0]!.count);
    if (counted !== plan.viewOrders) throw new Error(`The view holds ${counted} orders, not the ${plan.viewOrders} filled`);
    await pool.query('ANALYZE order_view');
    log(`A3: ${n(plan.viewOrders)} orders in ${round1(fillS)} s (${n(Math.round(plan.viewOrders / fillS))}/s)`);

    const sample = await fetch(`${api.ready.url}/orders/${encodeURIComponent(ids[0]!)}`);
    if (sample.status !== 200) throw new Error(`GET /orders/${ids[0]} answered ${sample.status}, not 200`);
    floor.child.send('sample', await sample.text());
    const get = { method: 'GET' as const, build: () => ({ path: `/orders/${encodeURIComponent(ids[Math.floor(Math.random() * ids.length)]!)}` }) };
    log(`A3 GET /orders/{id}, random ids: ${getConnections} connections, ${warmupS} s warm-up + ${durationS} s, floor first`);
    await saturate(floor.ready.url, warmupS, getConnections, get, 200);
    const getFloor = await saturate(floor.ready.url, durationS, getConnections, get, 200, floorMeter, floorCpu);
    await saturate(api.ready.url, warmupS, getConnections, get, 200);
    const getApi = await saturate(api.ready.url, durationS, getConnections, get, 200, apiMeter, apiCpu);
    log(`A3: p50 ${getApi.p50_ms} ms, p99 ${getApi.p99_ms} ms, ${n(getApi.per_s)}/s; floor p99 ${getFloor.p99_ms} ms, ${n(getFloor.per_s)}/s`);

    processes = { api: await stopServer(api.child), floor: await stopServer(floor.child) };
    const atHalf = apiPoints.find((p) => p.rate === half)!;
    const floorAtHalf = floorPoints.find((p) => p.rate === half)!;
    const at200 = apiPoints.find((p) => p.rate === plan.openLoop.fixedRate)!;
    const floorAt200 = floorPoints.find((p) => p.rate === plan.openLoop.fixedRate)!;
    const ratio = (figure: number, limit: number): number => (limit > 0 ? Math.round((figure / limit) * 1000) / 1000 : 0);
    return {
      mode: quick ? 'quick' : 'full',
      started_at: new Date(started).toISOString(),
      duration_s: Math.round((Date.now() - started) / 1000),
      scenarios: {
        A1: {
          name: 'POST /orders at saturation (201 after the broker ack)',
          figure: postApi.per_s,
          unit: 'orders/s',
          limit: postFloor.per_s,
          limit_is: 'a trivial fastify POST route (parse the JSON body, answer 201 with JSON) in the same kind of process, same load',
          ratio: ratio(postApi.per_s, postFloor.per_s),
          ratio_is: 'figure / limit',
          target: null,
          met: null,
          p50_ms: postApi.p50_ms,
          p99_ms: postApi.p99_ms,
          limit_p50_ms: postFloor.p50_ms,
          limit_p99_ms: postFloor.p99_ms,
        },
        A2: {
          name: `POST /orders open loop at half of A1 (${half}/s), latency from the intended send time`,
          rate: half,
          figure: atHalf.p99_ms,
          unit: 'ms (p99)',
          limit: floorAtHalf.p99_ms,
          limit_is: 'the trivial POST route at the same rate, same sender',
          ratio: ratio(atHalf.p99_ms, floorAtHalf.p99_ms),
          ratio_is: 'figure / limit (times the least p99 here)',
          target: null,
          met: null,
          p50_ms: atHalf.p50_ms,
          p99_ms: atHalf.p99_ms,
          p999_ms: atHalf.p999_ms,
          p99_ms_at_200: at200.p99_ms,
          limit_p99_ms_at_200: floorAt200.p99_ms,
        },
        A3: {
          name: `GET /orders/{id} against PostgreSQL, ${n(plan.viewOrders)} orders in the view, random ids`,
          view_orders: plan.viewOrders,
          figure: getApi.p99_ms,
          unit: 'ms (p99)',
          limit: getFloor.p99_ms,
          limit_is: 'a trivial fastify GET route answering the same order JSON, same load',
          ratio: ratio(getApi.p99_ms, getFloor.p99_ms),
          ratio_is: 'figure / limit (times the least p99 here)',
          target: null,
          met: null,
          p50_ms: getApi.p50_ms,
          requests_per_s: getApi.per_s,
          limit_requests_per_s: getFloor.per_s,
          throughput_ratio: ratio(getApi.per_s, getFloor.per_s),
        },
      },
      details: {
        post: { api: postApi, floor: postFloor },
        openLoop: { api: apiPoints, floor: floorPoints },
        get: { api: getApi, floor: getFloor },
        fill: { orders: plan.viewOrders, seconds: round1(fillS), per_s: Math.round(plan.viewOrders / fillS), concurrency: plan.fillConcurrency, rows_counted: counted },
        processes,
      },
      machine: machineDescription(loadAtStart, stack.source),
      settings: {
        plan,
        postgres_pool: `the API: DATABASE_URL with its default pool (${DEFAULT_MAX_CONNECTIONS} connections); the fill: a pool of its own (${plan.fillConcurrency})`,
        api_process: 'orderflow api (startOrderApi) on Kafka with DATABASE_URL, no stage; the order-view stage is not run (see docs/performance.md)',
      },
    };
  } finally {
    if (processes === undefined) for (const child of [api.child, floor.child]) await stopQuietly(child);
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).catch((error: unknown) => log(`could not drop schema ${schema}: ${String(error)}`));
    await pool.end();
    await admin.deleteTopics(api.ready.topics).catch((error: unknown) => log(`could not delete topics ${api.ready.topics.join(', ')}: ${String(error)}`));
    await admin.close();
  }
};

export const writeApiResults = (results: ApiResults): void => {
  mkdirSync(path.dirname(API_RESULTS), { recursive: true });
  writeFileSync(API_RESULTS, `${JSON.stringify(results, null, 2)}\n`);
};

// ---- `npm run bench:api [-- --quick]` ----

const main = async (): Promise<void> => {
  const log = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const quick = process.argv.includes('--quick');
  const results = await runApiBench({ stack: ensureStack(), quick, log });
  writeApiResults(results);
  // The report is one document: rendered again from the last full harness run and this one.
  const { renderReport } = await import('./report');
  const latest = path.join(REPO_ROOT, 'bench', 'results', 'latest.json');
  if (existsSync(latest)) renderReport(JSON.parse(readFileSync(latest, 'utf8')) as Parameters<typeof renderReport>[0], REPO_ROOT);
  log(`API scenario done in ${results.duration_s} s: bench/results/api.json${existsSync(latest) ? ' and docs/performance.md' : ''} written`);
  // kafkajs can leave a timer behind (see cli.ts); the results are written.
  process.exit(0);
};

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
