import { enrich, eventTimeOf } from '../domain/enriched-order';
import { hiveKey } from '../domain/hive-key';
import { rejection, Rejection } from '../domain/rejection';
import { RiskScorerRegistry } from '../domain/risk';
import { ClockPort } from './ports/clock.port';
import { DeadLetterPort } from './ports/dead-letter.port';
import { LoggerPort } from './ports/logger.port';
import { Delivery, DeliveryHandler, InboundMessage } from './ports/message-bus.port';
import { MetricsPort } from './ports/metrics.port';
import { OrderArchivePort } from './ports/order-archive.port';
import { OrderDecoderPort } from './ports/order-decoder.port';
import { OrderStatistics } from './order-statistics';
import { backoffDelay, BackoffPolicy, DEFAULT_BACKOFF, sleep, Sleep } from './retry';

export interface ProcessOrdersOptions {
  readonly archivePrefix: string;
  /** Larger messages are dead-lettered unread: one giant message must not stall a partition. */
  readonly maxMessageBytes: number;
  readonly backoff: BackoffPolicy;
}

export const DEFAULT_PROCESS_ORDERS_OPTIONS: ProcessOrdersOptions = {
  archivePrefix: 'orders',
  maxMessageBytes: 1024 * 1024,
  backoff: DEFAULT_BACKOFF,
};

export interface ProcessOrdersDeps {
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

/**
 * The process-orders use case: decode → score → enrich → archive → ack.
 *
 * The ack is the only thing that lets the bus commit, so it happens strictly after the archive
 * write (or, for a message that can never succeed, after the dead-letter write). Anything that
 * fails transiently is retried here with backoff, then handed back to the bus with a nack,
 * which redelivers it: a message is never skipped.
 */
export class ProcessOrders {
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: ProcessOrdersDeps,
    private readonly options: ProcessOrdersOptions = DEFAULT_PROCESS_ORDERS_OPTIONS,
  ) {
    this.sleep = deps.sleep ?? sleep;
    this.random = deps.random ?? Math.random;
  }

  readonly handle: DeliveryHandler = async (delivery: Delivery): Promise<void> => {
    const outcome = this.evaluate(delivery.message);
    const written = outcome.ok
      ? await this.withRetries('archive', () => this.archive(outcome.value))
      : await this.withRetries('dead-letter', () => this.deadLetter(delivery.message, outcome.error));
    if (written) delivery.ack();
    else delivery.nack(new Error(`Gave up writing offset ${delivery.message.offset} for now; it will be redelivered`));
  };

  /** Cuts retries short on shutdown: unacked messages are redelivered after the restart. */
  stop(): void {
    this.stopping.abort();
  }

  private evaluate(message: InboundMessage): { ok: true; value: Archivable } | { ok: false; error: Rejection } {
    const { value } = message;
    if (value === null || value.length === 0) {
      return { ok: false, error: rejection('MESSAGE.EMPTY', 'decode', 'Empty message: expected an order as JSON') };
    }
    if (value.length > this.options.maxMessageBytes) {
      return {
        ok: false,
        error: rejection(
          'MESSAGE.TOO_LARGE',
          'decode',
          `Message of ${value.length} bytes exceeds the limit of ${this.options.maxMessageBytes} bytes`,
        ),
      };
    }
    const decoded = this.deps.decoder.decode(value);
    if (!decoded.ok) return decoded;
    const order = decoded.value;
    const score = this.deps.scorers.score(order);
    if (!score.ok) return score;
    const consumedAt = this.deps.clock.now();
    const record = enrich(order, score.value, consumedAt, message.timestamp);
    const key = hiveKey(this.options.archivePrefix, eventTimeOf(order, message.timestamp), order.id);
    return { ok: true, value: { key, record } };
  }

  private async archive({ key, record }: Archivable): Promise<void> {
    await this.deps.archive.put(key, Buffer.from(JSON.stringify(record)), 'application/json');
    this.deps.metrics.archiveHealthy(true);
    this.deps.metrics.orderArchived(record.channel, record.latency_ms, record.high_risk);
    this.deps.statistics.recordArchived(record, this.deps.clock.now());
  }

  private async deadLetter(original: InboundMessage, reason: Rejection): Promise<void> {
    await this.deps.deadLetters.send({ original, rejection: reason });
    this.deps.metrics.orderDeadLettered(reason.code);
    this.deps.statistics.recordDeadLettered(reason.code);
    this.deps.logger.warn(
      { topic: original.topic, partition: original.partition, offset: original.offset, code: reason.code, reason: reason.message },
      'Message dead-lettered',
    );
  }

  /** Returns false when the attempts ran out (or shutdown began); the caller nacks. */
  private async withRetries(target: 'archive' | 'dead-letter', write: () => Promise<void>): Promise<boolean> {
    const { backoff } = this.options;
    for (let attempt = 0; attempt < backoff.maxAttempts; attempt++) {
      if (attempt > 0) {
        this.deps.metrics.archiveRetried();
        await this.sleep(backoffDelay(backoff, attempt - 1, this.random), this.stopping.signal);
      }
      if (this.stopping.signal.aborted) return false;
      try {
        await write();
        return true;
      } catch (error) {
        if (target === 'archive') this.deps.metrics.archiveHealthy(false);
        else this.deps.metrics.deadLetterFailed();
        this.deps.logger.warn({ target, attempt: attempt + 1, err: describe(error) }, `Write to ${target} failed`);
      }
    }
    return false;
  }
}

interface Archivable {
  readonly key: string;
  readonly record: ReturnType<typeof enrich>;
}

/** Error text for logs. Adapters are responsible for keeping secrets out of their errors. */
const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
