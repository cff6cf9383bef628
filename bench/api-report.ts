import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MAX_CONNECTIONS } from '../src/adapters/postgres/postgres-connection';
import type { ApiServerResult } from './api-server';

/** The API scenario's results (bench/api.ts) and its section of docs/performance.md, apart so that the report need not load the scenario. */

/** Where bench/api.ts writes its results, under the repository root. */
export const API_RESULTS_FILE = path.join('bench', 'results', 'api.json');

/** FastifyOrderApi's default bound on requests per socket (adr/0015), which the floor's server has too. */
export const MAX_REQUESTS_PER_SOCKET = 1_000;

/** DEFAULT_MAX_CONNECTIONS: the pool `orderflow api` opens on DATABASE_URL. */
const POOL_CONNECTIONS = DEFAULT_MAX_CONNECTIONS;

export interface ApiPlan {
  /** POST and GET at saturation: warm-up (not recorded), then measured, each against the floor first. */
  readonly saturation: { readonly postConnections: number; readonly getConnections: number; readonly warmupS: number; readonly durationS: number };
  readonly openLoop: { readonly fixedRate: number; readonly warmupS: number; readonly durationS: number; readonly drainS: number };
  readonly viewOrders: number;
  readonly fillConcurrency: number;
}

export interface Percentiles {
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly max_ms: number;
}

/** Cores each process kept busy during a phase; `other` is what the rest of the machine used (PostgreSQL's backends among it). */
export interface CpuShares {
  readonly server?: number;
  readonly kafka?: number;
  readonly harness?: number;
  readonly other?: number;
}

export interface Saturation {
  readonly connections: number;
  readonly duration_s: number;
  /** 201 (POST) or 200 (GET) answers per second: the only ones counted. */
  readonly per_s: number;
  readonly answered: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly cpu: CpuShares;
  /** The server's CPU per counted answer, in µs. */
  readonly server_cpu_us_per_request?: number;
}

export interface OpenLoopPoint extends Percentiles {
  readonly rate: number;
  readonly measured: number;
  /** Answered with anything but 201, or not at all (error); all are still in the percentiles. */
  readonly failed: number;
  /** Still unanswered at the drain deadline: counted at the age they had then. */
  readonly unfinished: number;
  readonly worst_send_delay_ms: number;
  readonly cpu: CpuShares;
}

/** As issue 12's scenarios: the figure, the limit measured beside it, their ratio; no target is set for these. */
export interface ApiScenario {
  readonly name: string;
  readonly figure: number;
  readonly unit: string;
  readonly limit: number;
  readonly limit_is: string;
  readonly ratio: number;
  readonly ratio_is: string;
  readonly target: null;
  readonly met: null;
}

export interface ApiResults {
  readonly mode: 'quick' | 'full';
  readonly started_at: string;
  readonly duration_s: number;
  readonly scenarios: {
    readonly A1: ApiScenario & { readonly p50_ms: number; readonly p99_ms: number; readonly limit_p50_ms: number; readonly limit_p99_ms: number };
    readonly A2: ApiScenario & { readonly rate: number; readonly p50_ms: number; readonly p99_ms: number; readonly p999_ms: number; readonly limit_p99_ms_at_200: number; readonly p99_ms_at_200: number };
    readonly A3: ApiScenario & {
      readonly view_orders: number;
      readonly p50_ms: number;
      readonly requests_per_s: number;
      readonly limit_requests_per_s: number;
      readonly throughput_ratio: number;
    };
  };
  readonly details: {
    readonly post: { readonly api: Saturation; readonly floor: Saturation };
    readonly openLoop: { readonly api: readonly OpenLoopPoint[]; readonly floor: readonly OpenLoopPoint[] };
    readonly get: { readonly api: Saturation; readonly floor: Saturation };
    readonly fill: { readonly orders: number; readonly seconds: number; readonly per_s: number; readonly concurrency: number; readonly rows_counted: number };
    readonly processes: { readonly api: ApiServerResult; readonly floor: ApiServerResult };
  };
  readonly machine: Readonly<Record<string, unknown>>;
  readonly settings: { readonly plan: ApiPlan; readonly postgres_pool: string; readonly api_process: string };
}

// ---- The report's section ----

/** The section of docs/performance.md, from bench/results/api.json when there is one (empty otherwise). */
export const apiSectionMarkdown = (repoRoot: string): string => {
  const file = path.join(repoRoot, API_RESULTS_FILE);
  if (!existsSync(file)) return '';
  return renderApiSection(JSON.parse(readFileSync(file, 'utf8')) as ApiResults);
};

export const renderApiSection = (r: ApiResults): string => {
  const { A1, A2, A3 } = r.scenarios;
  const d = r.details;
  const n = (x: number | undefined, digits = 0): string =>
    x === undefined ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const pct = (x: number): string => `${n(x * 100, 0)} %`;
  const times = (x: number): string => `${n(x, 1)}×`;
  const cores = (c: CpuShares): string => `API/floor ${n(c.server, 2)}, Kafka ${n(c.kafka, 2)}, load generator ${n(c.harness, 2)}, rest of the machine ${n(c.other, 2)}`;
  const command = `npm run bench:api${r.mode === 'quick' ? ' -- --quick' : ''}`;
  const lines = [
    '## The HTTP order API',
    '',
    `<!-- Generated by \`${command}\` (or \`npm run bench\`) from bench/results/api.json. -->`,
    '',
    `Measured by \`${command}\` (${r.mode} run) on ${r.started_at.slice(0, 16).replace('T', ' ')} UTC in ${r.duration_s} s, ` +
      `load average ${(r.machine.load_avg_start as number[]).join(' ')} at the start on ${String(r.machine.cores)} cores. ` +
      '`orderflow api` runs in a process of its own (startOrderApi, on Kafka with DATABASE_URL and no stage, as the command runs by default on Kafka); ' +
      'autocannon and the open-loop sender run in the harness. Each figure stands beside a limit measured in the same run: ' +
      'a trivial fastify route in the same kind of process (same server bounds, same load), which parses and answers the same JSON without broker or database — what HTTP and JSON alone allow on this machine.',
    '',
    '| # | scenario | figure | limit (same run) | ratio |',
    '|---|---|---|---|---|',
    `| A1 | ${A1.name}, ${d.post.api.connections} connections | ${n(A1.figure)} orders/s (p50 ${n(A1.p50_ms)} ms, p99 ${n(A1.p99_ms)} ms) | ${n(A1.limit)} requests/s (p50 ${n(A1.limit_p50_ms)} ms, p99 ${n(A1.limit_p99_ms)} ms) | ${pct(A1.ratio)} |`,
    `| A2 | POST /orders open loop at ${n(A2.rate)}/s (half of A1) | p50 ${n(A2.p50_ms, 1)} ms, p99 ${n(A2.p99_ms, 1)} ms, p99.9 ${n(A2.p999_ms, 1)} ms | p99 ${n(A2.limit, 1)} ms | ${times(A2.ratio)} |`,
    ...(A2.rate === 200
      ? []
      : [`| A2 | POST /orders open loop at 200/s | p99 ${n(A2.p99_ms_at_200, 1)} ms | p99 ${n(A2.limit_p99_ms_at_200, 1)} ms | ${times(A2.limit_p99_ms_at_200 > 0 ? A2.p99_ms_at_200 / A2.limit_p99_ms_at_200 : 0)} |`]),
    `| A3 | GET /orders/{id}, ${n(A3.view_orders)} orders in the view${r.mode === 'quick' ? ' (quick run: not 100,000)' : ''}, ${d.get.api.connections} connections | p50 ${n(A3.p50_ms)} ms, p99 ${n(A3.figure)} ms, ${n(A3.requests_per_s)} requests/s | p99 ${n(A3.limit)} ms, ${n(A3.limit_requests_per_s)} requests/s | p99 ${times(A3.ratio)}, throughput ${pct(A3.throughput_ratio)} |`,
    '',
    'No target is set for these (issue 12 sets none): the ratios say how far each figure is from what the machine allows an HTTP route at all.',
    '',
    `- **A1**: every request a new order (the generator's, with an id of its own); only 201 answers count, and the API gives 201 only after the broker acknowledged the order (acks=all) and the id's claim was settled in PostgreSQL. ` +
      `Answers: ${JSON.stringify(d.post.api.answered)}, ${d.post.api.errors} connection errors. ` +
      `The API process spent ${n(d.post.api.server_cpu_us_per_request)} µs of CPU per order, the floor ${n(d.post.floor.server_cpu_us_per_request)} µs per request. ` +
      `Cores busy during A1: ${cores(d.post.api.cpu)}; during the floor: ${cores(d.post.floor.cpu)}. ` +
      // What bounds A1 when the API process is far from a core: each POST holds one of the pool's
      // connections for three statements (the view's get, the claim, its settlement; two commits).
      `Each POST makes three PostgreSQL statements (the view's get, the id's claim, its settlement: two commits) on the API's pool of ${POOL_CONNECTIONS} connections: ` +
      `${n(d.post.api.per_s * 3)} statements/s, about ${n((POOL_CONNECTIONS * 1000) / (d.post.api.per_s * 3), 1)} ms per statement per connection, which bounds A1 when the API process itself is not busy. ` +
      'autocannon shares the two cores with the API, Kafka and PostgreSQL, so both figures are what the machine gives with the load generator on it.',
    `- **A2**: request i is due at start + i / rate and sent then (or as soon after as the sender gets to it, never later because the server was slow); its latency runs from that intended time to the end of its answer, so a stall cannot hide (no coordinated omission). ` +
      `${d.openLoop.api.map((p) => `At ${n(p.rate)}/s: ${n(p.measured)} measured requests, ${p.failed} failed or unanswered, the sender behind its schedule by ${n(p.worst_send_delay_ms, 1)} ms at worst; cores: ${cores(p.cpu)}.`).join(' ')} ` +
      'Warm-up requests are sent first and not recorded.',
    `- **A3**: the view was filled with ${n(d.fill.orders)} placed orders through PostgresOrderView.apply (the store's own transaction per event, as the order-view stage applies them), ${d.fill.concurrency} at a time: ` +
      `${n(d.fill.seconds, 1)} s, ${n(d.fill.per_s)} orders/s; ${n(d.fill.rows_counted)} rows counted afterwards. Then GETs of random existing ids, each answered 200 with the row and its shipping cost. ` +
      `The API spent ${n(d.get.api.server_cpu_us_per_request)} µs of CPU per GET, the floor ${n(d.get.floor.server_cpu_us_per_request)} µs. Cores busy: ${cores(d.get.api.cpu)} (PostgreSQL's backends are in "rest of the machine").`,
    '- **Why no order-view stage runs**: none of the three figures goes through it (a 201 comes at the broker\'s ack, A3\'s view is filled by the call the stage makes), and on two cores a consumer applying every POSTed order would take CPU from the process measured. ' +
      `Peak RSS: the API ${n(d.processes.api.peakRssMb)} MB, the floor ${n(d.processes.floor.peakRssMb)} MB.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
};

