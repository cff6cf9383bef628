import { Container } from 'inversify';
import { ReadinessCheck, HttpStatusServer } from '../../adapters/http/http-status-server';
import { LoggerPort } from '../../application/ports/logger.port';
import { EnrichedOrder } from '../../domain/enriched-order';
import { StageTarget } from '../../application/ports/stage-metrics.port';
import { RunningStage } from '../../application/stages/stage-runner';
import { AppConfig } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';
import { describeConfig } from '../env-config';
import { GracefulShutdown, SignalSource } from '../graceful-shutdown';
import { ensureStageTopics } from '../stage-topics';

/** What tests replace: the process's signals and exit, and bindings of the composition root. */
export interface ConsumeOptions {
  readonly signals?: SignalSource;
  readonly exit?: (code: number) => void;
  readonly overrides?: (container: Container) => void;
}

/**
 * `orderflow consume`: the service. Creates its topics when missing (if allowed), serves
 * health, readiness and metrics, runs the pipeline, and shuts down gracefully on SIGINT or
 * SIGTERM (see GracefulShutdown), from its first moment on: drain, commit, leave the group, all
 * within ORDERFLOW_SHUTDOWN_DEADLINE_MS. Every way out closes the HTTP server and the clients,
 * so the process ends by itself.
 *
 * Resolves with the process exit code: 0 after a shutdown, 1 when the service could not start or
 * the consumer stopped on a fatal error.
 */
export const runConsume = async (config: AppConfig, options: ConsumeOptions = {}): Promise<number> => {
  const container = buildContainer(config, options.overrides);
  const logger = container.get(TOKENS.Logger);
  const shutdown = new GracefulShutdown({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    ...(options.signals === undefined ? {} : { signals: options.signals }),
    ...(options.exit === undefined ? {} : { exit: options.exit }),
  });
  // The archive, the database, the Kafka clients: started before the stage, checked by /readyz,
  // closed on every way out, without this command knowing which adapters they are.
  const resources = container.get(TOKENS.Resources);
  const metrics = container.get(TOKENS.Prometheus);
  const statistics = container.get(TOKENS.Statistics);
  const runner = container.get(TOKENS.StageRunner);
  const stage = container.get(TOKENS.ArchiveStage);
  const runOptions = container.get(TOKENS.StageRunOptions)(stage);
  let http: HttpStatusServer | undefined;
  let running: RunningStage | undefined;
  try {
    logger.info({ config: describeConfig(config) }, 'orderflow consume starting');
    if (!(await ensureStageTopics(container, config, [stage]))) return 1;
    if (shutdown.requested) return stoppedBeforeStart(logger);

    try {
      await resources.start();
    } catch (error) {
      logger.error({ err: errorText(error) }, 'orderflow consume could not start its clients');
      return 1;
    }
    if (shutdown.requested) return stoppedBeforeStart(logger);
    const readiness = [...serviceReadiness(() => running), ...resources.readiness];
    http = new HttpStatusServer({ logger, readiness, metrics, topOrders: () => topOrdersView(statistics.topOrders(), config) });
    const port = await http.listen(config.httpPort, config.httpHost);
    logger.info({ host: config.httpHost, port }, 'Serving /healthz, /readyz, /metrics and /topk');
    if (shutdown.requested) return stoppedBeforeStart(logger);

    let started: RunningStage;
    try {
      started = await runner.run(stage, runOptions);
    } catch (error) {
      logger.error({ err: errorText(error) }, 'The consumer could not start');
      return 1;
    }
    running = started;
    // A signal that came while the group was being joined stops the stage right here.
    shutdown.attach({ stop: (drainBudgetMs) => started.stop(drainBudgetMs) });
    logger.info({ stage: stage.name, topic: config.ordersTopic, group: config.consumerGroup }, 'Consuming');

    let exitCode = 0;
    try {
      await started.done;
    } catch (error) {
      exitCode = 1;
      logger.error({ err: errorText(error) }, 'The consumer stopped on a fatal error');
    }
    running = undefined;
    await shutdown.drained;
    logger.info({ archived: statistics.snapshot(Date.now()).archived }, 'orderflow consume stopped');
    return exitCode;
  } catch (error) {
    logger.error({ err: errorText(error) }, 'orderflow consume failed');
    return 1;
  } finally {
    await http?.close().catch((error: unknown) => logger.warn({ err: errorText(error) }, 'Could not close the HTTP server cleanly'));
    await resources.close();
    shutdown.dispose();
  }
};

/**
 * What /readyz checks of the stage itself, beside its resources' own checks (the archive, the
 * brokers, the producer: Resources.readiness). The status server caches the answer briefly and
 * runs one round at a time. A check throws, with a reason fit for an unauthenticated page, when
 * the service should not take traffic.
 */
const serviceReadiness = (running: () => RunningStage | undefined): ReadinessCheck[] => {
  const failing = (target: StageTarget): boolean => running()?.failing().includes(target) ?? false;
  return [
    {
      name: 'pipeline',
      check: async () => {
        if (running() === undefined) throw new Error('the consumer is not running');
      },
    },
    {
      name: 'archive-writes',
      check: async () => {
        if (failing('handle')) throw new Error('archive writes are failing; they are held and retried with backoff');
      },
    },
    {
      name: 'dead-letter-writes',
      check: async () => {
        if (failing('dead-letter')) {
          throw new Error('dead-letter writes are failing; their partitions are held and the writes retried with backoff');
        }
      },
    },
  ];
};

/**
 * /topk is typically reachable without authentication, so customer ids (personal data) are
 * masked unless ORDERFLOW_TOPK_SHOW_CUSTOMERS says otherwise: the first character stays, as a
 * hint of the id's kind.
 */
const topOrdersView = (orders: readonly EnrichedOrder[], config: AppConfig): readonly EnrichedOrder[] =>
  config.topKShowCustomers ? orders : orders.map((order) => ({ ...order, customer: `${order.customer.slice(0, 1)}***` }));

const stoppedBeforeStart = (logger: LoggerPort): number => {
  logger.info({}, 'orderflow consume stopped before it joined the group');
  return 0;
};

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
