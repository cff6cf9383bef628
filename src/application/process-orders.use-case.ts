import { EnrichedOrder } from '../domain/enriched-order';
import { hiveKey } from '../domain/hive-key';
import { Rejection } from '../domain/rejection';
import { ok, Result } from '../domain/result';
import { Delivery, DeliveryHandler, InboundMessage } from './ports/message-bus.port';
import { evaluateMessage, guarded } from './order-evaluation';
import { DEFAULT_BACKOFF } from './retry';
import { RecentKeys } from './recent-keys';
import { OrderSinkDeps, SinkWrites } from './sink-writes';
import { ProbeBackoff } from './write-gate';

export interface ProcessOrdersOptions {
  readonly archivePrefix: string;
  /** Larger messages are dead-lettered unread: one giant message must not stall a partition. */
  readonly maxMessageBytes: number;
  /** How a failing archive or dead-letter topic is probed until it works again (see WriteGate). */
  readonly backoff: ProbeBackoff;
  /**
   * How many recently archived keys the process remembers, to count a rewrite of one of them as a
   * duplicate. Default 50 000 (about 5 MB): far more than a replay, a rebalance or a reconnect
   * redelivers, which is at most the in-flight bound plus a commit interval's worth of orders.
   */
  readonly rememberedKeys?: number;
}

export const DEFAULT_PROCESS_ORDERS_OPTIONS: ProcessOrdersOptions = {
  archivePrefix: 'orders',
  maxMessageBytes: 1024 * 1024,
  backoff: DEFAULT_BACKOFF,
};

/**
 * The process-orders use case: decode → score → enrich → archive → ack.
 *
 * The ack is the only thing that lets the bus commit, so it happens strictly after the archive
 * write (or, for a message that can never succeed, after the dead-letter write). A failing write
 * is retried until it succeeds (see WriteGate), so a message is never skipped; only shutdown cuts
 * the retries short, and the message, unacked, is redelivered after the restart.
 */
export class ProcessOrders {
  private readonly stopping = new AbortController();
  private readonly writes: SinkWrites;
  private readonly archivedKeys: RecentKeys;

  constructor(
    private readonly deps: OrderSinkDeps,
    private readonly options: ProcessOrdersOptions = DEFAULT_PROCESS_ORDERS_OPTIONS,
  ) {
    this.writes = new SinkWrites(deps, options.backoff, this.stopping.signal, 'Archive write failed: holding archive writes');
    this.archivedKeys = new RecentKeys(options.rememberedKeys ?? DEFAULT_REMEMBERED_KEYS);
  }

  readonly handle: DeliveryHandler = async (delivery: Delivery): Promise<void> => {
    const outcome = this.evaluate(delivery.message);
    const written = outcome.ok
      ? await this.writes.archive(() => this.archive(outcome.value))
      : await this.writes.deadLetter(delivery.message, outcome.error);
    if (written) delivery.ack();
    else delivery.nack(new Error(`Stopped before offset ${delivery.message.offset} was written; it will be redelivered`));
  };

  /** Cuts retries short on shutdown: unacked messages are redelivered after the restart. */
  stop(): void {
    this.stopping.abort();
  }

  /** The key too is computed here, before the retried write: a key that cannot be made is a dead letter, not an outage. */
  private evaluate(message: InboundMessage): Result<Rejection, Archivable> {
    return guarded(() => {
      const evaluated = evaluateMessage(message, this.deps, this.options.maxMessageBytes);
      if (!evaluated.ok) return evaluated;
      const { order, record, eventTimeMs } = evaluated.value;
      return ok({ key: hiveKey(this.options.archivePrefix, eventTimeMs, order.id), record });
    });
  }

  private async archive({ key, record }: Archivable): Promise<void> {
    await this.deps.archive.put(key, Buffer.from(JSON.stringify(record)), 'application/json');
    // Only rewrites this process saw are counted: what a killed predecessor wrote, it cannot know.
    if (this.archivedKeys.remember(key)) this.deps.metrics.orderDuplicate();
    this.deps.metrics.orderArchived(record.channel, record.latency_ms, record.high_risk);
    this.deps.statistics.recordArchived(record, this.deps.clock.now());
  }
}

const DEFAULT_REMEMBERED_KEYS = 50_000;

interface Archivable {
  readonly key: string;
  readonly record: EnrichedOrder;
}
