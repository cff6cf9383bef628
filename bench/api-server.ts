import { EventEmitter } from 'node:events';
import { createServer, Server } from 'node:http';
import Fastify from 'fastify';
import { lifecycleTopics } from '../src/application/stages/lifecycle-topics';
import { startOrderApi } from '../src/main/commands/api';
import { loadConfig } from '../src/main/env-config';
import { loadLifecycleConfig } from '../src/main/lifecycle-config';
import { MAX_REQUESTS_PER_SOCKET } from './api-report';
import { finish, jobOf, nextFromParent, notifyParent, peakRssMb } from './child';

/**
 * The API scenario's server, in a process of its own so that autocannon and the open-loop sender
 * (in the harness) do not share its event loop:
 * - `orders`: `orderflow api` as the command starts it (startOrderApi), on Kafka with DATABASE_URL
 *   and no stage, as `orderflow api` runs on Kafka by default;
 * - `floor`: the least a POST and a GET can cost here: fastify with the same server bounds, a
 *   route that parses the body as JSON and answers 201 with the same small JSON, and a GET that
 *   answers a real order's JSON (sent by the harness once the view has one). No broker, no database.
 *
 * Messages: `ready` {url, topics} once it listens; `sample` (floor, from the harness) with the
 * body its GET answers; `stop` from the harness, then `result` with the CPU and peak RSS.
 */
export type ApiServerJob =
  | {
      readonly mode: 'orders';
      readonly port: number;
      readonly kafkaBrokers: readonly string[];
      readonly topicPrefix: string;
      readonly databaseUrl: string;
      readonly schema: string;
    }
  | { readonly mode: 'floor'; readonly port: number };

export interface ApiServerReady {
  readonly url: string;
  /** The topics the API created (the bench deletes them). */
  readonly topics: readonly string[];
}

export interface ApiServerResult {
  readonly cpuS: number;
  readonly peakRssMb: number;
}

const HOST = '127.0.0.1';

const serveOrders = async (job: Extract<ApiServerJob, { mode: 'orders' }>): Promise<() => Promise<void>> => {
  // The command's own defaults, with any ORDERFLOW_API_*/KAFKA_* tuning in the environment, as
  // the other scenarios measure the configuration `orderflow consume` would run with.
  const config = loadConfig(
    {
      ...process.env,
      KAFKA_BROKERS: job.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: job.topicPrefix,
      KAFKA_CREATE_TOPICS: 'true',
      HTTP_HOST: HOST,
      HTTP_PORT: String(job.port),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    { bus: 'kafka', archive: 'memory' },
  );
  const lifecycle = loadLifecycleConfig({ DATABASE_URL: job.databaseUrl });
  // A schema of the run's own: the bench neither sees nor leaves rows in another suite's tables.
  const postgres = { ...lifecycle.postgres!, schema: job.schema };
  // Signals of its own: the harness stops it with a message, and a Ctrl-C reaches the harness first.
  const signals = new EventEmitter();
  const api = await startOrderApi({ ...config, lifecycle: { ...lifecycle, postgres } }, [], {
    signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
  });
  const topics = lifecycleTopics({ ordersTopic: config.ordersTopic.slice(config.topicPrefix.length), prefix: config.topicPrefix });
  notifyParent('ready', { url: api.address.url, topics: [topics.orders, topics.ordersStatus] } satisfies ApiServerReady);
  return async () => {
    const code = await api.close();
    if (code !== 0) throw new Error(`orderflow api stopped with exit code ${code}`);
  };
};

const serveFloor = async (job: Extract<ApiServerJob, { mode: 'floor' }>): Promise<() => Promise<void>> => {
  // Parsed once and serialised per request, as the order API serialises the row it read.
  let sample: unknown = {};
  void nextFromParent<string>('sample').then((message) => (sample = JSON.parse(message.payload ?? '{}')));
  // The order API's server bounds (FastifyOrderApi's defaults): a socket serves 1,000 requests at
  // most there, and the load generators reconnect as often here.
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => {
      const server: Server = createServer({ headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 5_000 }, handler);
      server.maxConnections = 1_024;
      server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
      return server;
    },
  });
  app.post('/orders', async (request, reply) => {
    const id = String((request.body as { id?: unknown }).id);
    const location = `/orders/${encodeURIComponent(id)}`;
    return reply.code(201).header('Location', location).send({ order_id: id, location });
  });
  app.get('/orders/:id', async () => sample);
  await app.listen({ port: job.port, host: HOST });
  notifyParent('ready', { url: `http://${HOST}:${job.port}`, topics: [] } satisfies ApiServerReady);
  return () => app.close();
};

const main = async (): Promise<void> => {
  const job = jobOf<ApiServerJob>();
  const stop = job.mode === 'orders' ? await serveOrders(job) : await serveFloor(job);
  await nextFromParent('stop');
  await stop();
  const cpu = process.cpuUsage();
  finish({ cpuS: (cpu.user + cpu.system) / 1e6, peakRssMb: peakRssMb() } satisfies ApiServerResult);
};

main().catch((error: unknown) => {
  process.stderr.write(`bench api-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
