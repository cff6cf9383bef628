import { Container } from 'inversify';
import { readStockFile } from '../../adapters/fs/json-stock-file';
import { HttpStatusServer } from '../../adapters/http/http-status-server';
import { migrate } from '../../adapters/postgres/postgres-migrations';
import { ReadinessCheck } from '../../application/ports/lifecycle.port';
import { LoggerPort } from '../../application/ports/logger.port';
import { Stage } from '../../application/stages/stage';
import { StageName } from '../../application/stages/stage-names';
import { RunningStage } from '../../application/stages/stage-runner';
import { AppConfig } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';
import { describeConfig } from '../env-config';
import { describeLifecycleConfig, DEFAULT_LIFECYCLE_CONFIG } from '../lifecycle-config';
import { SignalSource } from '../graceful-shutdown';
import { SupervisedUnit, Supervisor } from '../supervisor';
import { ensureStageTopics } from '../stage-topics';

/** What tests replace: the process's signals and exit, and bindings of the composition root. */
export interface RunOptions {
  readonly signals?: SignalSource;
  readonly exit?: (code: number) => void;
  readonly overrides?: (container: Container) => void;
}

/**
 * `orderflow run [--stages a,b,…]`: several stages in one process under one supervisor (adr/0016).
 * Before any stage starts: the topics every chosen stage reads and writes (with their DLQs) are
 * created as the event catalog says, when missing and allowed; the database is migrated and the
 * stock file seeded, when DATABASE_URL is set. Then /healthz, /readyz and /metrics are served on
 * HTTP_PORT, ready only when every stage is; the first fatal error of any stage ends them all,
 * and SIGTERM drains them together within ORDERFLOW_SHUTDOWN_DEADLINE_MS.
 *
 * Resolves with the exit code: 0 after a shutdown, 1 when a stage could not start or failed.
 */
export const runStages = async (config: AppConfig, names: readonly StageName[], options: RunOptions = {}): Promise<number> => {
  const container = buildContainer(config, options.overrides);
  const logger = container.get(TOKENS.Logger);
  const all = container.get(TOKENS.Stages);
  const stages = names.map((name) => all[name]);
  const runner = container.get(TOKENS.StageRunner);
  const runOptionsFor = container.get(TOKENS.StageRunOptions);
  const units = stages.map((stage): SupervisedUnit => stageUnit(stage, (s) => runner.run(s, runOptionsFor(s))));
  const supervisor = new Supervisor({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    units,
    resources: container.get(TOKENS.Resources),
    ...(options.signals === undefined ? {} : { signals: options.signals }),
    ...(options.exit === undefined ? {} : { exit: options.exit }),
  });
  let http: HttpStatusServer | undefined;
  try {
    logger.info(
      { stages: names, config: describeConfig(config), lifecycle: describeLifecycleConfig(config.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG) },
      'orderflow run starting',
    );
    if (!(await ensureStageTopics(container, config, stages))) return await gaveUp(supervisor, 1);
    if (supervisor.requested) return await gaveUp(supervisor, 0);
    if (!(await prepareDatabase(container, config, logger))) return await gaveUp(supervisor, 1);
    if (supervisor.requested) return await gaveUp(supervisor, 0);

    const metrics = container.get(TOKENS.Prometheus);
    const statistics = container.get(TOKENS.Statistics);
    http = new HttpStatusServer({ logger, readiness: supervisor.readiness, metrics, topOrders: () => statistics.topOrders().map(masked(config)) });
    const port = await http.listen(config.httpPort, config.httpHost);
    logger.info({ host: config.httpHost, port }, 'Serving /healthz, /readyz and /metrics');
    const code = await supervisor.run();
    logger.info({ stages: names, code }, 'orderflow run stopped');
    return code;
  } catch (error) {
    logger.error({ err: errorText(error) }, 'orderflow run failed');
    return await gaveUp(supervisor, 1);
  } finally {
    await http?.close().catch(() => undefined);
  }
};

/** A stage as a supervised unit; ready while none of its writes is failing. */
export const stageUnit = (stage: Stage, run: (stage: Stage) => Promise<RunningStage>): SupervisedUnit => {
  let running: RunningStage | undefined;
  const writes: ReadinessCheck = {
    name: 'writes',
    check: async () => {
      const failing = running?.failing() ?? [];
      if (failing.length > 0) throw new Error(`${failing.join(', ')} writes are failing; they are held and retried with backoff`);
    },
  };
  return {
    name: stage.name,
    start: async () => {
      running = await run(stage);
      return running;
    },
    stop: (deadlineMs) => running?.stop(deadlineMs) ?? Promise.resolve(),
    readiness: [writes],
  };
};

export const gaveUp = async (supervisor: Supervisor, code: number): Promise<number> => {
  await supervisor.close();
  return code;
};

/** Migrations, then the stock file's SKUs the inventory does not know yet; nothing to do in memory but the seeding. */
export const prepareDatabase = async (container: Container, config: AppConfig, logger: LoggerPort): Promise<boolean> => {
  const lifecycle = config.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG;
  try {
    const postgres = container.get(TOKENS.Postgres);
    if (postgres !== undefined) {
      // The pool works in the configured schema (its search_path); the migrations must go there
      // too, their record included: recorded in `public`, they would count as applied for every
      // other schema of the database, whose tables would then never be created.
      const schema = lifecycle.postgres?.schema;
      const applied = await migrate(postgres.pool, logger, schema === undefined ? {} : { schema });
      if (applied.length > 0) logger.info({ applied }, 'Database migrated');
    }
    if (lifecycle.stockFile !== undefined) {
      const stock = await readStockFile(lifecycle.stockFile);
      const added = await container.get(TOKENS.Inventory).seedMissing(stock);
      logger.info({ file: lifecycle.stockFile, skus: stock.size, added }, 'Stock seeded for the SKUs not known yet');
    }
    return true;
  } catch (error) {
    logger.error({ err: errorText(error) }, 'Could not prepare the database');
    return false;
  }
};

/** As consume's /topk: customer ids are personal data on an unauthenticated port. */
const masked =
  (config: AppConfig) =>
  <T extends { customer: string }>(order: T): T =>
    config.topKShowCustomers ? order : { ...order, customer: `${order.customer.slice(0, 1)}***` };

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
