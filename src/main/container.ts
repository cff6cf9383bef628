import 'reflect-metadata';
import { Container } from 'inversify';
import { HdrLatencyRecorder } from '../adapters/hdr/hdr-latency-recorder';
import { IoTsOrderCodec } from '../adapters/io-ts/io-ts-order-codec';
import { FileSystemOrderArchive } from '../adapters/fs/file-system-order-archive';
import { KafkaDeadLetterSink } from '../adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../adapters/memory/in-memory-message-bus';
import { InMemoryMetrics } from '../adapters/memory/in-memory-metrics';
import { InMemoryOrderArchive } from '../adapters/memory/in-memory-order-archive';
import { createPinoLogger, PinoLogger } from '../adapters/pino/pino-logger';
import { SystemClock } from '../adapters/system/system-clock';
import { OrderPipeline } from '../application/order-pipeline';
import { OrderStatistics } from '../application/order-statistics';
import { ProcessOrders } from '../application/process-orders.use-case';
import { RiskScorerRegistry } from '../domain/risk';
import { AppConfig } from './config';
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
  container.bind(TOKENS.Logger).toDynamicValue(() => new PinoLogger(createPinoLogger(config.logLevel)));
  container.bind(TOKENS.Metrics).toDynamicValue(() => new InMemoryMetrics());
  container.bind(TOKENS.LatencyRecorder).toDynamicValue(() => new HdrLatencyRecorder());
  container
    .bind(TOKENS.Statistics)
    .toDynamicValue((ctx) => new OrderStatistics(ctx.get(TOKENS.LatencyRecorder), config.topK));
  container.bind(TOKENS.OrderDecoder).toDynamicValue(() => new IoTsOrderCodec());
  container.bind(TOKENS.OrderEncoder).toDynamicValue(() => new IoTsOrderCodec());
  container.bind(TOKENS.RiskScorers).toDynamicValue(() => new RiskScorerRegistry());

  bindMessageBus(container, config);
  bindArchive(container, config);

  container
    .bind(TOKENS.DeadLetters)
    .toDynamicValue((ctx) => new KafkaDeadLetterSink(ctx.get(TOKENS.MessageBus), config.dlqTopic));
  container.bind(TOKENS.ProcessOrders).toDynamicValue(
    (ctx) =>
      new ProcessOrders(
        {
          decoder: ctx.get(TOKENS.OrderDecoder),
          scorers: ctx.get(TOKENS.RiskScorers),
          archive: ctx.get(TOKENS.Archive),
          deadLetters: ctx.get(TOKENS.DeadLetters),
          clock: ctx.get(TOKENS.Clock),
          metrics: ctx.get(TOKENS.Metrics),
          statistics: ctx.get(TOKENS.Statistics),
          logger: ctx.get(TOKENS.Logger),
        },
        { archivePrefix: config.archivePrefix, maxMessageBytes: config.maxMessageBytes, backoff: config.backoff },
      ),
  );
  container.bind(TOKENS.OrderPipeline).toDynamicValue(
    (ctx) =>
      new OrderPipeline(ctx.get(TOKENS.MessageBus), ctx.get(TOKENS.ProcessOrders), {
        topic: config.ordersTopic,
        groupId: config.consumerGroup,
        maxInFlight: config.maxInFlight,
      }),
  );

  overrides(container);
  return container;
};

const bindMessageBus = (container: Container, config: AppConfig): void => {
  switch (config.bus) {
    case 'memory':
      container.bind(TOKENS.MessageBus).toDynamicValue(() => new InMemoryMessageBus());
      return;
    case 'kafka':
      throw new Error('ORDERFLOW_BUS=kafka is not available in this build');
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
    case 'cos':
      throw new Error('ORDERFLOW_ARCHIVE=cos is not available in this build');
  }
};
