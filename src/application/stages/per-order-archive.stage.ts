import { EnrichedOrder } from '../../domain/enriched-order';
import { hiveKey } from '../../domain/hive-key';
import { Rejection } from '../../domain/rejection';
import { ok, Result } from '../../domain/result';
import { InboundMessage } from '../ports/message-bus.port';
import { evaluateMessage, guarded } from '../order-evaluation';
import { RecentKeys } from '../recent-keys';
import { ARCHIVE_STAGE, OrderSinkDeps } from './archive-deps';
import { EventStage, InputCodec, StageOutcome } from './stage';

export interface PerOrderArchiveOptions {
  readonly topic: string;
  readonly archivePrefix: string;
  /** Larger messages are dead-lettered unread: one giant message must not stall a partition. */
  readonly maxMessageBytes: number;
  /**
   * How many recently archived keys the process remembers, to count a rewrite of one of them as a
   * duplicate. Default 50 000 (about 5 MB): far more than a replay, a rebalance or a reconnect
   * redelivers, which is at most the in-flight bound plus a commit interval's worth of orders.
   */
  readonly rememberedKeys?: number;
}

/** What the archive writes for one message: decided before the write, so a retried write needs nothing else. */
export interface Archivable {
  readonly key: string;
  readonly record: EnrichedOrder;
}

const NO_OUTPUTS: StageOutcome = { kind: 'emit', emissions: [] };

/**
 * The per-order archive (the seed's layout) as a stage: decode → score → enrich → one object
 * per order → ack. The stage runner acks strictly after the write (or, for a message that can
 * never succeed, after its dead letter); a failing write is held and retried (WriteGate), so a
 * message is never skipped, and shutdown leaves it unacked for redelivery. The handler is
 * stateless and the write idempotent (the key is the order's), so a batch's messages are
 * written at once: `concurrent`.
 */
export class PerOrderArchiveStage implements EventStage<Archivable> {
  readonly kind = 'event';
  readonly name = ARCHIVE_STAGE;
  readonly ordering = 'concurrent';
  readonly exactlyOnce = false;
  readonly outputs = {};
  readonly inputs;
  private readonly archivedKeys: RecentKeys;

  constructor(
    private readonly deps: OrderSinkDeps,
    private readonly options: PerOrderArchiveOptions,
  ) {
    this.archivedKeys = new RecentKeys(options.rememberedKeys ?? DEFAULT_REMEMBERED_KEYS);
    const codec: InputCodec<Archivable> = { decode: (message) => this.evaluate(message) };
    this.inputs = [{ topic: options.topic, codec }];
  }

  /** One promise per order, the write's own: what follows it runs in its continuation, not in an async function's. */
  readonly handle = ({ key, record }: Archivable): Promise<StageOutcome> =>
    this.deps.archive.put(key, Buffer.from(JSON.stringify(record)), 'application/json').then(() => this.archived(key, record));

  private archived(key: string, record: EnrichedOrder): StageOutcome {
    // Only rewrites this process saw are counted: what a killed predecessor wrote, it cannot know.
    if (this.archivedKeys.remember(key)) this.deps.metrics.orderDuplicate();
    this.deps.metrics.orderArchived(record.channel, record.latency_ms, record.high_risk);
    this.deps.statistics.recordArchived(record, this.deps.clock.now());
    return NO_OUTPUTS;
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
}

const DEFAULT_REMEMBERED_KEYS = 50_000;
