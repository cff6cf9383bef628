import { HdrLatencyRecorder } from '../../src/adapters/hdr/hdr-latency-recorder';
import { IoTsOrderCodec } from '../../src/adapters/io-ts/io-ts-order-codec';
import { KafkaDeadLetterSink } from '../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../src/adapters/memory/in-memory-message-bus';
import { InMemoryMetrics } from '../../src/adapters/memory/in-memory-metrics';
import { InMemoryOrderArchive } from '../../src/adapters/memory/in-memory-order-archive';
import { OrderStatistics } from '../../src/application/order-statistics';
import { DeadLetterPort } from '../../src/application/ports/dead-letter.port';
import { LoggerPort } from '../../src/application/ports/logger.port';
import { OrderArchivePort } from '../../src/application/ports/order-archive.port';
import { Sleep } from '../../src/application/retry';
import { ARCHIVE_STAGE, ARCHIVE_WORDS, OrderSinkDeps } from '../../src/application/stages/archive-deps';
import { PerOrderArchiveStage } from '../../src/application/stages/per-order-archive.stage';
import { Stage } from '../../src/application/stages/stage';
import { StagePipeline } from '../../src/application/stages/stage-pipeline';
import { RunningStage, StageRunner } from '../../src/application/stages/stage-runner';
import { ProbeBackoff } from '../../src/application/write-gate';
import { RiskScorerRegistry } from '../../src/domain/risk';

export const ORDERS = 'orders.v1';
export const DLQ = 'orders.v1.dlq';
export const GROUP = 'order-consumer-group';

export const silentLogger: LoggerPort = { debug() {}, info() {}, warn() {}, error() {} };

/** An archive that fails on demand: the first N writes, or every write while `down` is set. */
export class FlakyOrderArchive implements OrderArchivePort {
  attempts = 0;
  failures = 0;
  down = false;
  concurrent = 0;
  maxConcurrent = 0;

  constructor(
    readonly inner: InMemoryOrderArchive = new InMemoryOrderArchive(),
    private failFirst = 0,
    private readonly onPut: (key: string) => void = () => {},
  ) {}

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    this.attempts++;
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      // A real store answers asynchronously; so does this one, so writes really overlap.
      await new Promise((resolve) => setImmediate(resolve));
      this.onPut(key);
      if (this.down || this.failFirst > 0) {
        this.failFirst = Math.max(0, this.failFirst - 1);
        this.failures++;
        throw new Error('503 SlowDown: simulated archive outage');
      }
      await this.inner.put(key, body, contentType);
    } finally {
      this.concurrent--;
    }
  }
}

/** A dead-letter sink spy that can be made to fail. */
export class FailingDeadLetterSpy implements DeadLetterPort {
  sent = 0;
  failing = true;

  constructor(private readonly inner: DeadLetterPort) {}

  async send(deadLetter: Parameters<DeadLetterPort['send']>[0]): Promise<void> {
    if (this.failing) throw new Error('DLQ topic unavailable');
    this.sent++;
    await this.inner.send(deadLetter);
  }
}

export interface PipelineHarness {
  readonly pipeline: StagePipeline;
  readonly processOrders: PerOrderArchiveStage;
  readonly deps: OrderSinkDeps;
  readonly metrics: InMemoryMetrics;
  readonly statistics: OrderStatistics;
}

export interface StagePipelineOptions {
  readonly topic?: string;
  readonly groupId?: string;
  readonly maxInFlight: number;
  readonly backoff?: ProbeBackoff;
}

/**
 * A stage on the real StageRunner, wired as the composition root wires it: the runner's dead
 * letters, metrics, log and clock are the sink's own, and the archive keeps its log words.
 */
export const aStagePipeline = (bus: InMemoryMessageBus, stage: Stage, deps: OrderSinkDeps, options: StagePipelineOptions): StagePipeline => {
  const runner = new StageRunner({
    bus,
    deadLetters: () => deps.deadLetters,
    metrics: deps.metrics,
    logger: deps.logger,
    clock: deps.clock,
    ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  return new StagePipeline(runner, stage, {
    groupId: () => options.groupId ?? GROUP,
    maxInFlight: options.maxInFlight,
    backoff: options.backoff ?? { baseDelayMs: 1, maxDelayMs: 5 },
    ...(stage.name === ARCHIVE_STAGE ? { words: ARCHIVE_WORDS, onDeadLettered: (code) => deps.statistics.recordDeadLettered(code) } : {}),
  });
};

/** Crashes the stage's (first) subscription as a killed member would: no drain, no commit. */
export const crash = (running: RunningStage): void => (running.subscriptions[0] as unknown as { crash(): void }).crash();

export interface PipelineOptions extends SinkDepsOptions {
  readonly maxInFlight?: number;
  readonly backoff?: ProbeBackoff;
}

export interface SinkDepsOptions {
  readonly deadLetters?: DeadLetterPort;
  readonly logger?: LoggerPort;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly now?: () => number;
}

/**
 * What a sink needs, as the tests wire it: the real decoder and scorers, dead letters on the bus,
 * in-memory metrics and statistics, silent logs. The test-side twin of the composition root's
 * sinkDeps().
 */
export const aSinkDeps = (
  bus: InMemoryMessageBus,
  archive: OrderArchivePort,
  options: SinkDepsOptions = {},
): OrderSinkDeps & { readonly metrics: InMemoryMetrics; readonly statistics: OrderStatistics } => ({
  decoder: new IoTsOrderCodec(),
  scorers: new RiskScorerRegistry(),
  archive,
  deadLetters: options.deadLetters ?? new KafkaDeadLetterSink(bus, DLQ),
  clock: { now: options.now ?? (() => Date.now()) },
  metrics: new InMemoryMetrics(),
  statistics: new OrderStatistics(new HdrLatencyRecorder(), 5),
  logger: options.logger ?? silentLogger,
  ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
  ...(options.random === undefined ? {} : { random: options.random }),
});

/** The real per-order archive stage on the given bus and archive, with millisecond backoff so tests stay fast. */
export const aPipeline = (bus: InMemoryMessageBus, archive: OrderArchivePort, options: PipelineOptions = {}): PipelineHarness => {
  const deps = aSinkDeps(bus, archive, options);
  const processOrders = new PerOrderArchiveStage(deps, { topic: ORDERS, archivePrefix: 'orders', maxMessageBytes: 64 * 1024 });
  const pipeline = aStagePipeline(bus, processOrders, deps, {
    maxInFlight: options.maxInFlight ?? 10,
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
  });
  return { pipeline, processOrders, deps, metrics: deps.metrics, statistics: deps.statistics };
};
