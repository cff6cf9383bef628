import type { ServiceIdentifier } from 'inversify';
import type { FastifyOrderApi } from '../adapters/fastify/fastify-order-api';
import type { ReadinessCheck } from '../application/ports/lifecycle.port';
import type { OrderIdClaimsPort } from '../application/ports/order-id-claims.port';
import type { IdempotencyRecordsPort } from '../application/ports/idempotency-records.port';
import type { KafkaTopicAdmin } from '../adapters/kafka/kafka-topic-admin';
import type { PrometheusMetrics } from '../adapters/prometheus/prometheus-metrics';
import type { OrderStatistics } from '../application/order-statistics';
import type { ClockPort } from '../application/ports/clock.port';
import type { DeadLetterPort } from '../application/ports/dead-letter.port';
import type { LatencyRecorderPort } from '../application/ports/latency-recorder.port';
import type { LoggerPort } from '../application/ports/logger.port';
import type { MessageBusPort } from '../application/ports/message-bus.port';
import type { MetricsPort } from '../application/ports/metrics.port';
import type { OrderArchivePort } from '../application/ports/order-archive.port';
import type { ExplainingOrderDecoderPort, OrderEncoderPort } from '../application/ports/order-decoder.port';
import type { StageMetricsPort } from '../application/ports/stage-metrics.port';
import type { Stage } from '../application/stages/stage';
import type { StagePipeline } from '../application/stages/stage-pipeline';
import type { StageRunner, StageRunOptions } from '../application/stages/stage-runner';
import type { Resources } from '../application/resources';
import type { PostgresConnectionPool } from '../adapters/postgres/postgres-connection';
import type { InventoryPort } from '../application/ports/inventory.port';
import type { PaymentGatewayPort } from '../application/ports/payment-gateway.port';
import type { OrderViewQueries, OrderViewStore } from '../application/ports/order-view.port';
import type { SpendLimitPort } from '../application/ports/spend-limit.port';
import type { TopicSetupPort } from '../application/ports/topic-setup.port';
import type { LifecycleTopics } from '../application/stages/lifecycle-topics';
import type { StageName } from '../application/stages/stage-names';
import type { RiskScorerRegistry } from '../domain/risk';
import type { AppConfig } from './config';

/** Every DI identifier, typed, in one place: `container.get(TOKENS.Archive)` is an OrderArchivePort. */
export const TOKENS = {
  Config: Symbol.for('orderflow.Config') as ServiceIdentifier<AppConfig>,
  Clock: Symbol.for('orderflow.Clock') as ServiceIdentifier<ClockPort>,
  Logger: Symbol.for('orderflow.Logger') as ServiceIdentifier<LoggerPort>,
  Metrics: Symbol.for('orderflow.Metrics') as ServiceIdentifier<MetricsPort & StageMetricsPort>,
  Prometheus: Symbol.for('orderflow.Prometheus') as ServiceIdentifier<PrometheusMetrics>,
  TopicAdmin: Symbol.for('orderflow.TopicAdmin') as ServiceIdentifier<KafkaTopicAdmin>,
  LatencyRecorder: Symbol.for('orderflow.LatencyRecorder') as ServiceIdentifier<LatencyRecorderPort>,
  Statistics: Symbol.for('orderflow.Statistics') as ServiceIdentifier<OrderStatistics>,
  OrderDecoder: Symbol.for('orderflow.OrderDecoder') as ServiceIdentifier<ExplainingOrderDecoderPort>,
  OrderEncoder: Symbol.for('orderflow.OrderEncoder') as ServiceIdentifier<OrderEncoderPort>,
  RiskScorers: Symbol.for('orderflow.RiskScorers') as ServiceIdentifier<RiskScorerRegistry>,
  MessageBus: Symbol.for('orderflow.MessageBus') as ServiceIdentifier<MessageBusPort>,
  Archive: Symbol.for('orderflow.Archive') as ServiceIdentifier<OrderArchivePort>,
  /** The archive's dead-letter topic (DLQ_TOPIC). */
  DeadLetters: Symbol.for('orderflow.DeadLetters') as ServiceIdentifier<DeadLetterPort>,
  /** The dead-letter topic of an input topic: DLQ_TOPIC for the orders topic, `<input>.dlq` for the others. */
  DeadLettersFor: Symbol.for('orderflow.DeadLettersFor') as ServiceIdentifier<(inputTopic: string) => DeadLetterPort>,
  StageRunner: Symbol.for('orderflow.StageRunner') as ServiceIdentifier<StageRunner>,
  /** How a stage runs: its groups, in-flight bounds and backoff, from config and its name. */
  StageRunOptions: Symbol.for('orderflow.StageRunOptions') as ServiceIdentifier<(stage: Stage) => StageRunOptions>,
  /** The archive as a stage: PerOrderArchiveStage or BatchedOrderSink, as ORDERFLOW_SINK says. */
  ArchiveStage: Symbol.for('orderflow.ArchiveStage') as ServiceIdentifier<Stage>,
  /** The archive stage on the runner, as `consume` runs it. */
  ArchivePipeline: Symbol.for('orderflow.ArchivePipeline') as ServiceIdentifier<StagePipeline>,
  /** Who creates the topics `run` needs: Kafka's admin client, or the in-memory bus itself. */
  TopicSetup: Symbol.for('orderflow.TopicSetup') as ServiceIdentifier<TopicSetupPort>,
  /** PostgreSQL, when DATABASE_URL is set (stock, payments, the spend limit). */
  Postgres: Symbol.for('orderflow.Postgres') as ServiceIdentifier<PostgresConnectionPool | undefined>,
  Inventory: Symbol.for('orderflow.Inventory') as ServiceIdentifier<InventoryPort>,
  PaymentGateway: Symbol.for('orderflow.PaymentGateway') as ServiceIdentifier<PaymentGatewayPort>,
  SpendLimit: Symbol.for('orderflow.SpendLimit') as ServiceIdentifier<SpendLimitPort>,
  /**
   * The order view, both ports from one instance (the stage writes through one, the API reads
   * through the other): PostgresOrderView when DATABASE_URL is set, InMemoryOrderView otherwise.
   */
  OrderView: Symbol.for('orderflow.OrderView') as ServiceIdentifier<OrderViewStore & OrderViewQueries>,
  LifecycleTopics: Symbol.for('orderflow.LifecycleTopics') as ServiceIdentifier<LifecycleTopics>,
  /** The five lifecycle stages by name, the order view and the archive: every stage `orderflow run` can run. */
  Stages: Symbol.for('orderflow.Stages') as ServiceIdentifier<Readonly<Record<StageName, Stage>>>,
  /** POST /orders' claims on order ids and Idempotency-Key answers: PostgreSQL when DATABASE_URL is set, memory otherwise (adr/0019). */
  OrderIdClaims: Symbol.for('orderflow.OrderIdClaims') as ServiceIdentifier<OrderIdClaimsPort>,
  IdempotencyRecords: Symbol.for('orderflow.IdempotencyRecords') as ServiceIdentifier<IdempotencyRecordsPort>,
  /** The HTTP order API, given what its /readyz asks (the supervisor's readiness). */
  OrderApiFor: Symbol.for('orderflow.OrderApiFor') as ServiceIdentifier<(readiness: readonly ReadinessCheck[]) => FastifyOrderApi>,
  /** Every adapter the container built that has a lifecycle: started in dependency order, closed in reverse. */
  Resources: Symbol.for('orderflow.Resources') as ServiceIdentifier<Resources>,
} as const;
