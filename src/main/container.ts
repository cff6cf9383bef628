import 'reflect-metadata';
import { Container, ResolutionContext } from 'inversify';
import { readFileSync } from 'node:fs';
import { CosOrderArchive } from '../adapters/cos/cos-order-archive';
import { HdrLatencyRecorder } from '../adapters/hdr/hdr-latency-recorder';
import { IoTsOrderCodec } from '../adapters/io-ts/io-ts-order-codec';
import { FileSystemOrderArchive } from '../adapters/fs/file-system-order-archive';
import { KafkaConnection } from '../adapters/kafka/kafka-connection';
import { KafkaDeadLetterSink } from '../adapters/kafka/kafka-dead-letter-sink';
import { KafkaConsumerTuning, KafkaMessageBus } from '../adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../adapters/kafka/kafka-topic-admin';
import { InMemoryMessageBus } from '../adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../adapters/memory/in-memory-order-archive';
import { createPinoLogger, logDestination, PinoLogger } from '../adapters/pino/pino-logger';
import { PrometheusMetrics } from '../adapters/prometheus/prometheus-metrics';
import { SystemClock } from '../adapters/system/system-clock';
import { OrderStatistics } from '../application/order-statistics';
import { DeadLetterPort } from '../application/ports/dead-letter.port';
import { LoggerPort } from '../application/ports/logger.port';
import { ARCHIVE_STAGE, ARCHIVE_WORDS, OrderSinkDeps } from '../application/stages/archive-deps';
import { BatchedOrderSink, inFlightBudgetFor } from '../application/stages/batched-archive.stage';
import { PerOrderArchiveStage } from '../application/stages/per-order-archive.stage';
import { deadLetterTopicOf, Stage } from '../application/stages/stage';
import { StagePipeline } from '../application/stages/stage-pipeline';
import { stageGroupId, StageRunner, StageRunOptions } from '../application/stages/stage-runner';
import { hasLifecycle } from '../application/ports/lifecycle.port';
import { InMemoryInventory } from '../adapters/memory/in-memory-inventory';
import { InMemoryPaymentLedger } from '../adapters/memory/in-memory-payment-ledger';
import { InMemoryOrderView } from '../adapters/memory/in-memory-order-view';
import { InMemorySpendLimit } from '../adapters/memory/in-memory-spend-limit';
import { SimulatedPaymentGateway } from '../adapters/payment/simulated-payment-gateway';
import { PostgresConnectionPool } from '../adapters/postgres/postgres-connection';
import { PostgresInventory } from '../adapters/postgres/postgres-inventory';
import { PostgresOrderView } from '../adapters/postgres/postgres-order-view';
import { PostgresPaymentLedger } from '../adapters/postgres/postgres-payment-ledger';
import { PostgresSpendLimit } from '../adapters/postgres/postgres-spend-limit';
import { ioTsLifecycleEventCodecs } from '../adapters/io-ts/lifecycle-event-codec';
import { lifecycleStages } from '../application/stages/lifecycle/lifecycle-stages';
import { orderViewStage } from '../application/stages/order-view.stage';
import { lifecycleTopics } from '../application/stages/lifecycle-topics';
import { DEFAULT_LIFECYCLE_CONFIG, DEFAULT_ORDER_VIEW_SETTINGS } from './lifecycle-config';
import { Resources } from '../application/resources';
import { RiskScorerRegistry } from '../domain/risk';
import { randomUUID } from 'node:crypto';
import { FastifyOrderApi } from '../adapters/fastify/fastify-order-api';
import { InMemoryIdempotencyRecords, InMemoryOrderIdClaims } from '../adapters/memory/in-memory-api-requests';
import { PostgresIdempotencyRecords, PostgresOrderIdClaims } from '../adapters/postgres/postgres-api-requests';
import { OrderWaiters } from '../application/api/order-waiters';
import { PlaceOrder } from '../application/api/place-order';
import { SetOrderStatus } from '../application/api/set-order-status';
import { DEFAULT_API_CONFIG } from './config';
import { AppConfig, KafkaSettings } from './config';
import { TOKENS } from './di-tokens';

/**
 * The composition root: the one place that knows every adapter. It picks them from config, so
 * the core never learns whether it runs on Kafka or in memory. Classes carry no decorators;
 * bindings are factories, which keeps inversify out of the domain, the application and the
 * adapters (adr/0003).
 *
 * `overrides` lets tests and the demo swap one binding (a failing archive, a fake clock)
 * without re-wiring the rest.
 */
export const buildContainer = (config: AppConfig, overrides: (container: Container) => void = () => {}): Container => {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(TOKENS.Config).toConstantValue(config);
  container.bind(TOKENS.Clock).toConstantValue(new SystemClock());
  container
    .bind(TOKENS.Logger)
    .toDynamicValue(
      () =>
        new PinoLogger(
          createPinoLogger(config.logLevel, logDestination({ format: config.logFormat, fd: config.logDestination === 'stderr' ? 2 : 1 })),
        ),
    );
  container.bind(TOKENS.LatencyRecorder).toDynamicValue(() => new HdrLatencyRecorder());
  container
    .bind(TOKENS.Statistics)
    .toDynamicValue((ctx) => new OrderStatistics(ctx.get(TOKENS.LatencyRecorder), config.topK));
  container.bind(TOKENS.Prometheus).toDynamicValue((ctx) => {
    const statistics = ctx.get(TOKENS.Statistics);
    const clock = ctx.get(TOKENS.Clock);
    const admin = config.bus === 'kafka' ? ctx.get(TOKENS.TopicAdmin) : undefined;
    return new PrometheusMetrics(
      {
        logger: ctx.get(TOKENS.Logger),
        throughput: () => statistics.snapshot(clock.now()).throughputPerSecond,
        ...(admin === undefined
          ? {}
          : {
              consumerLag: async () =>
                (await admin.consumerLag(config.consumerGroup, config.ordersTopic)).partitions.map((p) => ({
                  topic: config.ordersTopic,
                  partition: p.partition,
                  lag: p.lag,
                })),
            }),
      },
      { defaultMetrics: true },
    );
  });
  container.bind(TOKENS.Metrics).toDynamicValue((ctx) => ctx.get(TOKENS.Prometheus));
  container.bind(TOKENS.OrderDecoder).toDynamicValue(() => new IoTsOrderCodec());
  container.bind(TOKENS.OrderEncoder).toDynamicValue(() => new IoTsOrderCodec());
  container.bind(TOKENS.RiskScorers).toDynamicValue(() => new RiskScorerRegistry());

  bindMessageBus(container, config);
  bindArchive(container, config);

  container.bind(TOKENS.DeadLettersFor).toDynamicValue((ctx) => {
    const admin = config.bus === 'kafka' ? ctx.get(TOKENS.TopicAdmin) : undefined;
    const bus = ctx.get(TOKENS.MessageBus);
    const logger = ctx.get(TOKENS.Logger);
    const sinks = new Map<string, DeadLetterPort>();
    return (inputTopic: string): DeadLetterPort => {
      const topic = deadLetterTopicFor(config, inputTopic);
      let sink = sinks.get(topic);
      if (sink === undefined) {
        sink = new KafkaDeadLetterSink(bus, topic, {
          logger,
          // Read at the first dead letter, once: the topic may be created only just before.
          ...(admin === undefined ? {} : { maxRecordBytes: () => admin.maxMessageBytes(topic) }),
        });
        sinks.set(topic, sink);
      }
      return sink;
    };
  });
  container.bind(TOKENS.DeadLetters).toDynamicValue((ctx) => ctx.get(TOKENS.DeadLettersFor)(config.ordersTopic));
  container.bind(TOKENS.StageRunner).toDynamicValue(
    (ctx) =>
      new StageRunner({
        bus: ctx.get(TOKENS.MessageBus),
        deadLetters: ctx.get(TOKENS.DeadLettersFor),
        metrics: ctx.get(TOKENS.Metrics),
        logger: ctx.get(TOKENS.Logger),
        clock: ctx.get(TOKENS.Clock),
      }),
  );
  container.bind(TOKENS.StageRunOptions).toDynamicValue((ctx) => {
    const statistics = ctx.get(TOKENS.Statistics);
    return (stage: Stage): StageRunOptions => {
      const inputs = stage.kind === 'event' ? stage.inputs.length : 1;
      const archive = stage.name === ARCHIVE_STAGE;
      return {
        // The archive keeps the group it always had (CONSUMER_GROUP): its committed positions carry over.
        groupId: (topic) => (archive ? config.consumerGroup : stageGroupId(config.topicPrefix, stage.name, topic, inputs)),
        maxInFlight: config.maxInFlight,
        maxInFlightBytes: config.maxInFlightBytes,
        backoff: config.backoff,
        ...(archive ? { words: ARCHIVE_WORDS, onDeadLettered: (code) => statistics.recordDeadLettered(code) } : {}),
      };
    };
  });
  container.bind(TOKENS.ArchiveStage).toDynamicValue((ctx): Stage => {
    if (config.sink !== 'batched') {
      return new PerOrderArchiveStage(sinkDeps(ctx), {
        topic: config.ordersTopic,
        archivePrefix: config.archivePrefix,
        maxMessageBytes: config.maxMessageBytes,
      });
    }
    return new BatchedOrderSink(sinkDeps(ctx), {
      topic: config.ordersTopic,
      prefix: `${config.archivePrefix}-batched`,
      rotation: config.batch,
      maxMessageBytes: config.maxMessageBytes,
      backoff: config.backoff,
      inFlightBudget: batchedInFlightBudget(config),
      subscriptionMaxInFlightBytes: config.maxInFlightBytes,
    });
  });
  container
    .bind(TOKENS.ArchivePipeline)
    .toDynamicValue((ctx) => {
      const stage = ctx.get(TOKENS.ArchiveStage);
      return new StagePipeline(ctx.get(TOKENS.StageRunner), stage, ctx.get(TOKENS.StageRunOptions)(stage));
    });

  bindLifecycle(container, config);
  bindOrderApi(container, config);
  container
    .bind(TOKENS.TopicSetup)
    .toDynamicValue((ctx) => (config.bus === 'kafka' ? ctx.get(TOKENS.TopicAdmin) : (ctx.get(TOKENS.MessageBus) as InMemoryMessageBus)));

  // The adapters with a lifecycle, whatever the config (or a test's override) bound: the stores
  // before the clients of the bus, so that closing in reverse stops deliveries before the stores go.
  container.bind(TOKENS.Resources).toDynamicValue(
    (ctx) =>
      new Resources(
        [
          { name: 'archive', resource: ctx.get(TOKENS.Archive) },
          ...(config.lifecycle?.postgres === undefined ? [] : [{ name: 'postgres', resource: ctx.get(TOKENS.Postgres) }]),
          // After the pool: closed before it (its listening connection is its own).
          ...(config.lifecycle?.postgres === undefined ? [] : [{ name: 'order-view', resource: ctx.get(TOKENS.OrderView) }]),
          ...(config.bus === 'kafka' ? [{ name: 'kafka', resource: ctx.get(TOKENS.TopicAdmin) }] : []),
          { name: 'message-bus', resource: ctx.get(TOKENS.MessageBus) },
        ].flatMap(({ name, resource }) => (hasLifecycle(resource) ? [{ name, resource }] : [])),
        ctx.get(TOKENS.Logger),
      ),
  );

  overrides(container);
  return container;
};

/**
 * The lifecycle's stores and stages: PostgreSQL when DATABASE_URL is set, memory otherwise (the
 * embedded default and the unit tests), behind the same ports and contract suites.
 */
const bindLifecycle = (container: Container, config: AppConfig): void => {
  const lifecycle = config.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG;
  const postgres = lifecycle.postgres;
  container.bind(TOKENS.Postgres).toDynamicValue((ctx) => (postgres === undefined ? undefined : new PostgresConnectionPool(postgres, ctx.get(TOKENS.Logger))));
  const pool = (ctx: ResolutionContext) => ctx.get(TOKENS.Postgres)!.pool;
  container.bind(TOKENS.Inventory).toDynamicValue((ctx) => (postgres === undefined ? new InMemoryInventory() : new PostgresInventory(pool(ctx))));
  container
    .bind(TOKENS.PaymentGateway)
    .toDynamicValue((ctx) => new SimulatedPaymentGateway(postgres === undefined ? new InMemoryPaymentLedger() : new PostgresPaymentLedger(pool(ctx)), lifecycle.payment));
  container
    .bind(TOKENS.SpendLimit)
    .toDynamicValue((ctx) => (postgres === undefined ? new InMemorySpendLimit(lifecycle.spendLimit) : new PostgresSpendLimit(pool(ctx), lifecycle.spendLimit)));
  const view = lifecycle.view ?? DEFAULT_ORDER_VIEW_SETTINGS;
  container
    .bind(TOKENS.OrderView)
    .toDynamicValue((ctx) =>
      postgres === undefined
        ? new InMemoryOrderView({ bounds: view.bounds, clock: ctx.get(TOKENS.Clock) })
        : new PostgresOrderView(pool(ctx), { bounds: view.bounds, clock: ctx.get(TOKENS.Clock), logger: ctx.get(TOKENS.Logger) }),
    );
  // ordersTopic carries the prefix already; the catalog puts it before every name itself.
  container
    .bind(TOKENS.LifecycleTopics)
    .toConstantValue(lifecycleTopics({ ordersTopic: config.ordersTopic.slice(config.topicPrefix.length), prefix: config.topicPrefix }));
  container.bind(TOKENS.Stages).toDynamicValue((ctx) => {
    const stages = lifecycleStages({
      topics: ctx.get(TOKENS.LifecycleTopics),
      codecs: ioTsLifecycleEventCodecs(),
      evaluation: { decoder: ctx.get(TOKENS.OrderDecoder), scorers: ctx.get(TOKENS.RiskScorers), clock: ctx.get(TOKENS.Clock) },
      maxMessageBytes: config.maxMessageBytes,
      spendLimit: ctx.get(TOKENS.SpendLimit),
      fraudLimit: lifecycle.spendLimit.limit,
      gateway: ctx.get(TOKENS.PaymentGateway),
      inventory: ctx.get(TOKENS.Inventory),
    });
    const orderView = orderViewStage({
      topics: ctx.get(TOKENS.LifecycleTopics),
      codecs: ioTsLifecycleEventCodecs(),
      view: ctx.get(TOKENS.OrderView),
      clock: ctx.get(TOKENS.Clock),
      logger: ctx.get(TOKENS.Logger),
      sweepMs: view.sweepMs,
    });
    return { ...stages, 'order-view': orderView, archive: ctx.get(TOKENS.ArchiveStage) };
  });
};

/**
 * The HTTP order API (adr/0019): its use cases on the bus, the order view and the request stores
 * (PostgreSQL with DATABASE_URL, so that every instance shares claims and keys; memory otherwise).
 */
const bindOrderApi = (container: Container, config: AppConfig): void => {
  const api = config.api ?? DEFAULT_API_CONFIG;
  const postgres = (config.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG).postgres;
  const pool = (ctx: ResolutionContext) => ctx.get(TOKENS.Postgres)!.pool;
  container.bind(TOKENS.OrderIdClaims).toDynamicValue((ctx) => (postgres === undefined ? new InMemoryOrderIdClaims() : new PostgresOrderIdClaims(pool(ctx))));
  container
    .bind(TOKENS.IdempotencyRecords)
    .toDynamicValue((ctx) => (postgres === undefined ? new InMemoryIdempotencyRecords() : new PostgresIdempotencyRecords(pool(ctx))));
  container.bind(TOKENS.OrderApiFor).toDynamicValue((ctx) => (readiness) => {
    const bus = ctx.get(TOKENS.MessageBus);
    const view = ctx.get(TOKENS.OrderView);
    const clock = ctx.get(TOKENS.Clock);
    const logger = ctx.get(TOKENS.Logger);
    const topics = ctx.get(TOKENS.LifecycleTopics);
    const placeOrder = new PlaceOrder(
      {
        decoder: ctx.get(TOKENS.OrderDecoder),
        encoder: ctx.get(TOKENS.OrderEncoder),
        bus,
        view,
        claims: ctx.get(TOKENS.OrderIdClaims),
        idempotency: ctx.get(TOKENS.IdempotencyRecords),
        clock,
        logger,
        newId: randomUUID,
      },
      { ordersTopic: topics.orders, sendTimeoutMs: api.sendTimeoutMs },
    );
    const setOrderStatus = new SetOrderStatus(
      { bus, view, encoder: ioTsLifecycleEventCodecs().statusUpdated, clock },
      { statusTopic: topics.ordersStatus, sendTimeoutMs: api.sendTimeoutMs },
    );
    return new FastifyOrderApi(
      { placeOrder, setOrderStatus, view, waiters: new OrderWaiters(view, api.maxWaiters), readiness, metrics: ctx.get(TOKENS.Prometheus), logger, ordersTopic: topics.orders },
      { tokens: api.tokens, bodyLimit: config.maxMessageBytes },
    );
  });
};

/** The archive's input keeps DLQ_TOPIC; every other input topic has `<topic>.dlq`. */
export const deadLetterTopicFor = (config: AppConfig, inputTopic: string): string =>
  inputTopic === config.ordersTopic ? config.dlqTopic : deadLetterTopicOf(inputTopic);

/** What either sink needs, from the bindings above: the same decoder, scorers, archive and dead letters for both. */
const sinkDeps = (ctx: ResolutionContext): OrderSinkDeps => ({
  decoder: ctx.get(TOKENS.OrderDecoder),
  scorers: ctx.get(TOKENS.RiskScorers),
  archive: ctx.get(TOKENS.Archive),
  deadLetters: ctx.get(TOKENS.DeadLetters),
  clock: ctx.get(TOKENS.Clock),
  metrics: ctx.get(TOKENS.Metrics),
  statistics: ctx.get(TOKENS.Statistics),
  logger: ctx.get(TOKENS.Logger),
});

const bindMessageBus = (container: Container, config: AppConfig): void => {
  switch (config.bus) {
    case 'memory':
      container.bind(TOKENS.MessageBus).toDynamicValue(() => new InMemoryMessageBus());
      return;
    case 'kafka': {
      const settings = required(config.kafka, 'kafka');
      const kafka = kafkaConnection(settings);
      const clientLogger = (ctx: ResolutionContext): LoggerPort =>
        config.clientLogsAtDebug ? atDebugLevel(ctx.get(TOKENS.Logger)) : ctx.get(TOKENS.Logger);
      container.bind(TOKENS.TopicAdmin).toDynamicValue((ctx) => new KafkaTopicAdmin(kafka, clientLogger(ctx)));
      container.bind(TOKENS.MessageBus).toDynamicValue(
        (ctx) =>
          new KafkaMessageBus(kafka, {
            logger: clientLogger(ctx),
            publishing: { compression: settings.compression },
            consuming: consumerTuning(settings),
          }),
      );
      return;
    }
  }
};

const bindArchive = (container: Container, config: AppConfig): void => {
  switch (config.archive) {
    case 'memory':
      container.bind(TOKENS.Archive).toDynamicValue(() => new InMemoryOrderArchive());
      return;
    case 'fs':
      container.bind(TOKENS.Archive).toDynamicValue(() => new FileSystemOrderArchive(config.dataDir));
      return;
    case 'cos': {
      const cos = required(config.cos, 'cos');
      container.bind(TOKENS.Archive).toDynamicValue(
        () =>
          new CosOrderArchive({
            endpoint: cos.endpoint,
            bucket: cos.bucket,
            credentials: cos.credentials,
            forcePathStyle: cos.forcePathStyle,
            maxConcurrency: cos.maxConcurrency,
            client: cos.client,
          }),
      );
      return;
    }
  }
};

/**
 * The batched sink's least in-flight budget: ORDERFLOW_MAX_IN_FLIGHT, but never less than two full
 * batches of one partition (inFlightBudgetFor). The sink raises it for the partitions it is
 * actually assigned (BatchedOrderSink.maxInFlight), which the subscription asks on every assignment.
 */
const batchedInFlightBudget = (config: AppConfig): number => Math.max(config.maxInFlight, inFlightBudgetFor(config.batch, 1));

/** The consumer settings we expose; the adapter's defaults stand for the rest. */
const consumerTuning = ({ maxPartitionFetchBytes, fetchMinBytes, fetchMaxWaitMs, commitIntervalMs, sessionTimeoutMs }: KafkaSettings): KafkaConsumerTuning => ({
  ...(maxPartitionFetchBytes === undefined ? {} : { maxBytesPerPartition: maxPartitionFetchBytes }),
  ...(fetchMinBytes === undefined ? {} : { minBytes: fetchMinBytes }),
  ...(fetchMaxWaitMs === undefined ? {} : { maxWaitTimeMs: fetchMaxWaitMs }),
  ...(commitIntervalMs === undefined ? {} : { commitIntervalMs }),
  // Kafka's rule of thumb: heartbeat at a third of the session timeout, here never slower than the default 3 s.
  ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs, heartbeatIntervalMs: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)) }),
});

/** Our settings in the adapter's words; the CA file is read once, at startup. */
const kafkaConnection = (settings: KafkaSettings): KafkaConnection => ({
  brokers: settings.brokers,
  clientId: settings.clientId,
  ssl: settings.caFile !== undefined ? { ca: readFileSync(settings.caFile) } : settings.ssl,
  ...(settings.sasl === undefined ? {} : { sasl: settings.sasl }),
});

/** Every line at debug: what a command reports in its summary need not be logged as errors first. */
const atDebugLevel = (logger: LoggerPort): LoggerPort => ({
  debug: (fields, message) => logger.debug(fields, message),
  info: (fields, message) => logger.debug(fields, message),
  warn: (fields, message) => logger.debug(fields, message),
  error: (fields, message) => logger.debug(fields, message),
});

const required = <T>(settings: T | undefined, name: string): T => {
  // loadConfig guarantees the section for the chosen adapter; this guards hand-built configs.
  if (settings === undefined) throw new Error(`The ${name} adapter was chosen but the config has no ${name} settings`);
  return settings;
};
