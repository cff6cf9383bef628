import { EventEmitter } from 'node:events';
import type { FastifyOrderApi } from '../../adapters/fastify/fastify-order-api';
import { ORDER_VIEW_STAGE_NAME } from '../../application/stages/lifecycle-topics';
import { StageName } from '../../application/stages/stage-names';
import { AppConfig, DEFAULT_API_CONFIG } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';
import { describeConfig } from '../env-config';
import { SignalSource } from '../graceful-shutdown';
import { DEFAULT_LIFECYCLE_CONFIG } from '../lifecycle-config';
import { SupervisedUnit, Supervisor } from '../supervisor';
import { gaveUp, prepareDatabase, RunOptions, stageUnit } from './run';
import { ensureStageTopics } from '../stage-topics';

/** A running `orderflow api`: where it listens, how to stop it, and its exit code once stopped. */
export interface OrderApiHandle {
  /** `http://host:port`, and the port (the bound one when HTTP_PORT is 0). */
  readonly address: { readonly url: string; readonly port: number };
  /** As SIGTERM: the HTTP server first (waiters answered, requests finished), then the stages; resolves with the exit code. */
  close(): Promise<number>;
  /** Resolves with the exit code once everything has stopped, by close(), a signal or a failure. */
  readonly done: Promise<number>;
}

/**
 * Why `orderflow api` cannot serve with these stages, or undefined. On Kafka without DATABASE_URL
 * the view is this process's memory: without the order-view stage here it would stay empty, and
 * every GET would answer 404 while the orders went through elsewhere.
 */
export const apiStagesProblem = (config: AppConfig, stages: readonly StageName[]): string | undefined =>
  config.bus === 'kafka' && (config.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG).postgres === undefined && !stages.includes(ORDER_VIEW_STAGE_NAME)
    ? `orderflow api on Kafka needs the order view: set DATABASE_URL (the view the order-view stage of 'orderflow run' keeps), or run the stage here (--stages ${ORDER_VIEW_STAGE_NAME},… or ORDERFLOW_STAGES)`
    : undefined;

/**
 * `orderflow api [--stages a,b]` (adr/0019): the HTTP order API on HTTP_HOST:HTTP_PORT, and the
 * given stages in the same process under one supervisor (runStages' pieces: topics, database,
 * stage units). On the embedded default the caller passes every stage, since nothing else would
 * process the orders; on Kafka, none unless asked (`orderflow run` runs them).
 *
 * Resolves once the API listens; rejects when it cannot start (the reason is logged too). SIGTERM
 * (or close()) drains: fastify closes first, answering waiters and finishing requests that may
 * still publish, then the stages stop, then the resources close (the producer flushes last).
 */
export const startOrderApi = async (config: AppConfig, stageNames: readonly StageName[], options: RunOptions = {}): Promise<OrderApiHandle> => {
  const problem = apiStagesProblem(config, stageNames);
  if (problem !== undefined) throw new Error(problem);
  const container = buildContainer(config, options.overrides);
  const logger = container.get(TOKENS.Logger);
  const all = container.get(TOKENS.Stages);
  const stages = stageNames.map((name) => all[name]);
  const runner = container.get(TOKENS.StageRunner);
  const runOptionsFor = container.get(TOKENS.StageRunOptions);

  // close() stops the process as SIGTERM would, through the same supervisor.
  const own = new EventEmitter();
  const outer: SignalSource = options.signals ?? process;
  const signals: SignalSource = {
    on: (signal, listener) => (outer.on(signal, listener), own.on(signal, listener)),
    off: (signal, listener) => (outer.off(signal, listener), own.off(signal, listener)),
  };

  let httpStopped!: () => void;
  const httpClosed = new Promise<void>((resolve) => (httpStopped = resolve));
  const stageUnits = stages.map((stage): SupervisedUnit => {
    const unit = stageUnit(stage, (s) => runner.run(s, runOptionsFor(s)));
    // The stages stop after the HTTP server: requests still being answered may publish.
    return { ...unit, stop: async (deadlineMs) => (await httpClosed, unit.stop(deadlineMs)) };
  });
  let api: FastifyOrderApi | undefined;
  let listening!: (address: { url: string; port: number }) => void;
  const listened = new Promise<{ url: string; port: number }>((resolve) => (listening = resolve));
  const httpUnit: SupervisedUnit = {
    name: 'http',
    start: async () => {
      try {
        const address = await api!.listen(config.httpPort, config.httpHost);
        listening(address);
        let ended!: () => void;
        const done = new Promise<void>((resolve) => (ended = resolve));
        api!.app.server.once('close', () => ended());
        return { done };
      } catch (error) {
        httpStopped();
        throw error;
      }
    },
    stop: async () => {
      try {
        await api!.close();
      } finally {
        httpStopped();
      }
    },
    readiness: [],
  };
  const supervisor = new Supervisor({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    units: [httpUnit, ...stageUnits],
    resources: container.get(TOKENS.Resources),
    signals,
    ...(options.exit === undefined ? {} : { exit: options.exit }),
  });
  api = container.get(TOKENS.OrderApiFor)(supervisor.readiness);

  const apiConfig = config.api ?? DEFAULT_API_CONFIG;
  logger.info(
    {
      stages: stageNames,
      config: describeConfig(config),
      api: { auth: apiConfig.tokens.length === 0 ? 'off' : `${apiConfig.tokens.length} bearer token(s)`, sendTimeoutMs: apiConfig.sendTimeoutMs, maxWaiters: apiConfig.maxWaiters },
    },
    'orderflow api starting',
  );
  const fail = async (why: string): Promise<never> => {
    await gaveUp(supervisor, 1);
    throw new Error(why);
  };
  // What the stages need, and what the API itself writes to: the orders and the status updates.
  const topics = container.get(TOKENS.LifecycleTopics);
  if (!(await ensureStageTopics(container, config, stages, [topics.orders, topics.ordersStatus]))) return fail('Could not prepare the Kafka topics (see the log)');
  if (!(await prepareDatabase(container, config, logger))) return fail('Could not prepare the database (see the log)');

  const done = supervisor.run().then((code) => {
    logger.info({ code }, 'orderflow api stopped');
    return code;
  });
  const address = await Promise.race([listened, done.then((code) => Promise.reject(new Error(`orderflow api could not start (exit code ${code}; see the log)`)))]);
  logger.info({ url: address.url, docs: `${address.url}/docs` }, 'Serving the order API');
  return {
    address,
    done,
    close: async () => {
      own.emit('SIGTERM', 'SIGTERM');
      return done;
    },
  };
};
