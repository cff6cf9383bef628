import { Rejection } from '../domain/rejection';
import { RiskScorerRegistry } from '../domain/risk';
import { OrderStatistics } from './order-statistics';
import { ClockPort } from './ports/clock.port';
import { DeadLetterPort } from './ports/dead-letter.port';
import { LoggerPort } from './ports/logger.port';
import { InboundMessage } from './ports/message-bus.port';
import { MetricsPort } from './ports/metrics.port';
import { OrderArchivePort } from './ports/order-archive.port';
import { OrderDecoderPort } from './ports/order-decoder.port';
import { Sleep, sleep } from './retry';
import { ProbeBackoff, WriteGate } from './write-gate';

/** What every order sink needs, whether it writes an object per order or per batch. */
export interface OrderSinkDeps {
  readonly decoder: OrderDecoderPort;
  readonly scorers: RiskScorerRegistry;
  readonly archive: OrderArchivePort;
  readonly deadLetters: DeadLetterPort;
  readonly clock: ClockPort;
  readonly metrics: MetricsPort;
  readonly statistics: OrderStatistics;
  readonly logger: LoggerPort;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

/** The part of them the writes use. */
export type SinkWritesDeps = Pick<OrderSinkDeps, 'deadLetters' | 'clock' | 'metrics' | 'statistics' | 'logger' | 'sleep' | 'random'>;

/**
 * The writes every sink makes, each behind its own WriteGate: to the archive (what a sink
 * writes there is its own business) and to the dead-letter topic (always the same). Sinks differ
 * in what they archive, not in how a failing target is held, probed, logged and counted.
 */
export class SinkWrites {
  private readonly archiveGate: WriteGate;
  private readonly deadLetterGate: WriteGate;

  /** `archiveHeld` says, in the sink's words, what is held while the archive fails. */
  constructor(
    private readonly deps: SinkWritesDeps,
    backoff: ProbeBackoff,
    signal: AbortSignal,
    archiveHeld: string,
  ) {
    const { metrics, logger } = deps;
    const gateDeps = { sleep: deps.sleep ?? sleep, random: deps.random ?? Math.random, now: () => deps.clock.now(), signal };
    this.archiveGate = new WriteGate(backoff, {
      ...gateDeps,
      events: {
        outageBegan: (error) => {
          metrics.archiveHealthy(false);
          logger.warn({ target: 'archive', err: describe(error) }, `${archiveHeld}, probing with backoff until one succeeds`);
        },
        probeFailed: (error, failedProbes) => logger.warn({ target: 'archive', failedProbes, err: describe(error) }, 'Archive still failing'),
        outageEnded: (outageMs, failedProbes, released) => {
          metrics.archiveHealthy(true);
          logger.info({ target: 'archive', outageMs, failedProbes, released }, 'Archive writes succeed again');
        },
      },
    });
    this.deadLetterGate = new WriteGate(backoff, {
      ...gateDeps,
      events: {
        outageBegan: (error) => {
          metrics.deadLetterHealthy(false);
          logger.warn({ target: 'dead-letter', err: describe(error) }, 'Dead-letter write failed: holding dead letters, probing with backoff until one succeeds');
        },
        probeFailed: (error, failedProbes) => logger.warn({ target: 'dead-letter', failedProbes, err: describe(error) }, 'Dead-letter topic still failing'),
        outageEnded: (outageMs, failedProbes, released) => {
          metrics.deadLetterHealthy(true);
          logger.info({ target: 'dead-letter', outageMs, failedProbes, released }, 'Dead-letter writes succeed again');
        },
      },
    });
  }

  /** Resolves true once `attempt` wrote to the archive, false if shutdown came first. */
  archive(attempt: () => Promise<void>): Promise<boolean> {
    return this.write(this.archiveGate, attempt);
  }

  /** Resolves true once the message is on the dead-letter topic with its reason, false if shutdown came first. */
  deadLetter(original: InboundMessage, reason: Rejection): Promise<boolean> {
    return this.write(this.deadLetterGate, () => this.sendDeadLetter(original, reason));
  }

  private async sendDeadLetter(original: InboundMessage, reason: Rejection): Promise<void> {
    const { deadLetters, metrics, statistics, logger } = this.deps;
    try {
      await deadLetters.send({ original, rejection: reason });
    } catch (error) {
      metrics.deadLetterFailed();
      throw error;
    }
    metrics.orderDeadLettered(reason.code);
    statistics.recordDeadLettered(reason.code);
    logger.warn(
      {
        topic: original.topic,
        partition: original.partition,
        offset: original.offset,
        code: reason.code,
        reason: clip(reason.message, MAX_LOGGED_REASON_CHARS),
      },
      'Message dead-lettered',
    );
  }

  /** Every attempt after a write's first is a retry, whether it probed or was released after an outage. */
  private write(gate: WriteGate, attempt: () => Promise<void>): Promise<boolean> {
    let attempts = 0;
    return gate.write(() => {
      if (attempts++ > 0) this.deps.metrics.archiveRetried();
      return attempt();
    });
  }
}

/** Error text for logs. Adapters are responsible for keeping secrets out of their errors. */
const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** As the dead-letter sink bounds its headers: a hostile payload's rejection reason must not bloat the log. */
const MAX_LOGGED_REASON_CHARS = 1_000;

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
