import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { CosOrderArchive } from '../../adapters/cos/cos-order-archive';
import { ReadinessCheck, HttpStatusServer } from '../../adapters/http/http-status-server';
import { KafkaMessageBus } from '../../adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../adapters/kafka/kafka-topic-admin';
import { LoggerPort } from '../../application/ports/logger.port';
import { AppConfig } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';
import { describeConfig } from '../env-config';

/**
 * `orderflow consume`: the service. Creates its topics when missing (if allowed), serves
 * health, readiness and metrics, runs the pipeline, and shuts down gracefully on SIGINT or
 * SIGTERM: drain, commit, leave the group, all within ORDERFLOW_SHUTDOWN_DEADLINE_MS. A second
 * signal, or the deadline, exits at once; nothing is lost, because whatever was not committed
 * is redelivered to the next consumer.
 *
 * Resolves with the process exit code.
 */
export const runConsume = async (config: AppConfig): Promise<number> => {
  const container = buildContainer(config);
  const logger = container.get(TOKENS.Logger);
  const admin = config.bus === 'kafka' ? container.get(TOKENS.TopicAdmin) : undefined;
  const bus = container.get(TOKENS.MessageBus);
  const archive = container.get(TOKENS.Archive);
  const metrics = container.get(TOKENS.Prometheus);
  const statistics = container.get(TOKENS.Statistics);
  const pipeline = container.get(TOKENS.OrderPipeline);
  logger.info({ config: describeConfig(config) }, 'orderflow consume starting');

  if (admin !== undefined && !(await ensureTopics(admin, config, logger))) {
    await admin.close();
    return 1;
  }

  let running = false;
  const readiness: ReadinessCheck[] = [
    {
      name: 'pipeline',
      check: async () => {
        if (!running) throw new Error('the consumer is not running');
      },
    },
    {
      name: 'archive-writes',
      check: async () => {
        if (!metrics.archiveWritesHealthy) throw new Error('archive writes are failing; they are held and retried with backoff');
      },
    },
    ...(admin === undefined ? [] : [{ name: 'kafka', check: async () => void (await admin.listTopics()) }]),
    {
      name: 'archive',
      check: async () => {
        if (archive instanceof CosOrderArchive) await archive.headBucket();
        else if (config.archive === 'fs') await access(config.dataDir, constants.W_OK);
      },
    },
  ];
  if (config.archive === 'fs') await mkdir(config.dataDir, { recursive: true });

  const http = new HttpStatusServer({ logger, readiness, metrics, topOrders: () => statistics.topOrders() });
  const port = await http.listen(config.httpPort);
  logger.info({ port }, 'Serving /healthz, /readyz, /metrics and /topk');

  const subscription = await pipeline.start();
  running = true;
  logger.info({ topic: config.ordersTopic, group: config.consumerGroup }, 'Consuming');

  let stopping: Promise<void> | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping !== undefined) {
      logger.warn({ signal }, 'Second signal: exiting now; uncommitted messages will be redelivered');
      process.exit(exitCodeFor(signal));
    }
    const deadlineMs = config.shutdownDeadlineMs;
    logger.info({ signal, deadlineMs }, 'Shutting down: draining in-flight orders');
    // The drain may hang on a store or a broker that does not answer, and so may the commit, the
    // leave and the producer flush after it. The deadline covers all of it, as an orchestrator's
    // grace period does: past it the process exits with what it has committed.
    deadline = setTimeout(() => {
      logger.error({ deadlineMs }, 'Shutdown deadline passed: exiting now; uncommitted messages will be redelivered');
      process.exit(1);
    }, deadlineMs).unref();
    stopping = pipeline.stop(drainBudget(deadlineMs));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  let exitCode = 0;
  try {
    await subscription.done;
  } catch (error) {
    exitCode = 1;
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'The consumer stopped on a fatal error');
  }
  running = false;
  await stopping;
  await http.close();
  if (bus instanceof KafkaMessageBus) await bus.close();
  if (archive instanceof CosOrderArchive) archive.close();
  await admin?.close();
  process.off('SIGINT', shutdown);
  process.off('SIGTERM', shutdown);
  clearTimeout(deadline);
  logger.info({ archived: statistics.snapshot(Date.now()).archived }, 'orderflow consume stopped');
  return exitCode;
};

/**
 * The part of the shutdown deadline in-flight orders get to finish; the rest (a quarter, at most
 * 5 s) is kept for committing, leaving the group and flushing the producer.
 */
const drainBudget = (deadlineMs: number): number => deadlineMs - Math.min(5_000, Math.floor(deadlineMs / 4));

/** The shell's convention for a process ended by a signal: 128 + the signal's number. */
const exitCodeFor = (signal: NodeJS.Signals): number => 128 + (osConstants.signals[signal] ?? 0);

/** Creates missing topics when allowed; returns false when the service cannot run. */
const ensureTopics = async (admin: KafkaTopicAdmin, config: AppConfig, logger: LoggerPort): Promise<boolean> => {
  const kafka = config.kafka!;
  const topics = [config.ordersTopic, config.dlqTopic];
  try {
    if (kafka.createTopics) {
      const result = await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: kafka.topicPartitions })));
      if (result.created.length > 0) logger.info({ created: result.created, partitions: kafka.topicPartitions }, 'Created topics');
      return true;
    }
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return true;
    logger.error({ missing }, 'Topics are missing and KAFKA_CREATE_TOPICS=false: create them, or allow orderflow to');
    return false;
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'Could not prepare the Kafka topics');
    return false;
  }
};
