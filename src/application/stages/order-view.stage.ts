import { LifecycleEvent } from '../../domain/lifecycle/events';
import { rejection } from '../../domain/rejection';
import { ClockPort } from '../ports/clock.port';
import { LoggerPort } from '../ports/logger.port';
import { InboundMessage } from '../ports/message-bus.port';
import { ExpiredHeldEvent, OrderViewStore } from '../ports/order-view.port';
import { HeldEventsFullError, VIEW_ORDER_UNKNOWN } from '../order-view';
import { Sleep, sleep as realSleep } from '../retry';
import { LifecycleTopics, ORDER_VIEW_STAGE_NAME } from './lifecycle-topics';
import { encodeLifecycleEvent, EventCodec, LifecycleEventCodecs } from './lifecycle/event-codecs';
import { emit, EventStage, StageCompanion, StageCompanionContext, StageInput } from './stage';

/** ORDERFLOW_VIEW_HOLD_SWEEP_MS's default: how often expired held events are looked for. */
export const DEFAULT_HOLD_SWEEP_MS = 5_000;

/** While the view's held events are at their count bound, a hold is tried again after this, doubling up to FULL_RETRY_MAX_MS. */
const FULL_RETRY_FIRST_MS = 50;
const FULL_RETRY_MAX_MS = 2_000;
/** At most one warning per this while holds wait for room. */
const FULL_WARN_EVERY_MS = 10_000;

export interface OrderViewStageDeps {
  readonly topics: LifecycleTopics;
  readonly codecs: LifecycleEventCodecs;
  readonly view: OrderViewStore;
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  /** How often the held events past their bounds are dead-lettered (DEFAULT_HOLD_SWEEP_MS). */
  readonly sweepMs?: number;
  readonly sleep?: Sleep;
}

/** The step named in the dead letters of expired held events (`__connect.errors.stage`). */
const HOLD_STEP = 'hold';

/**
 * The order view (issue 11, adr/0018): every lifecycle event and every status update applied to
 * its order's row. Nothing is emitted; the row is the effect, made idempotent by event id in the
 * store (the event, its duplicate check and its history entry in one transaction), so the stage
 * is not exactly-once: Kafka transactions would add nothing to a database write.
 *
 * Ordered: a partition's events one after the other. The view tolerates facts out of order (they
 * come from independent topics anyway), but status updates on orders.status must apply in the
 * order they were written: `shipped` then `delivered` is a delivery, the other way round a refusal.
 * Partitions, and so orders, still run side by side.
 *
 * An event whose order the view has not seen is held by the store. At the count bound the store
 * refuses to hold more, and that partition waits (backpressure on the topics that run ahead of
 * the placements, which are then usually only late, after a restart); its companion sweeps the
 * held events past their age every `sweepMs` and dead-letters each to `<its topic>.dlq` with
 * VIEW.ORDER_UNKNOWN, through the stage's own dead-letter gate, before it asks for more (the store
 * hands out again what a crash kept from being written: at least once).
 */
export const orderViewStage = (deps: OrderViewStageDeps): EventStage<LifecycleEvent> => {
  const { topics, codecs, view, clock, logger } = deps;
  const sleep = deps.sleep ?? realSleep;
  const stopping = new AbortController();
  let warnedAt = -Infinity;

  /**
   * Applies the event; at the count bound of held events, waits on this partition alone (its
   * chain) until placements free room. Going through the runner's gate instead would hold every
   * input of the stage, the placements that free the room included.
   */
  const apply = async (event: LifecycleEvent, topic: string): Promise<void> => {
    for (let delayMs = FULL_RETRY_FIRST_MS; ; delayMs = Math.min(FULL_RETRY_MAX_MS, delayMs * 2)) {
      try {
        await view.apply(event, topic);
        return;
      } catch (error) {
        // At shutdown the event stays unacked, and is applied after the restart.
        if (!(error instanceof HeldEventsFullError) || stopping.signal.aborted) throw error;
        if (clock.now() - warnedAt >= FULL_WARN_EVERY_MS) {
          warnedAt = clock.now();
          logger.warn({ stage: ORDER_VIEW_STAGE_NAME, topic, err: error.message }, 'The order view holds as many events as it may; their topics wait for the placements');
        }
        await sleep(delayMs, stopping.signal);
      }
    }
  };
  const input = <E extends LifecycleEvent>(topic: string, codec: EventCodec<E>): StageInput<LifecycleEvent> => ({ topic, codec });
  return {
    kind: 'event',
    name: ORDER_VIEW_STAGE_NAME,
    inputs: [
      input(topics.ordersByCustomer, codecs.placed),
      input(topics.ordersValidated, codecs.validated),
      input(topics.ordersRejected, codecs.rejected),
      input(topics.paymentsProcessed, codecs.paymentProcessed),
      input(topics.paymentsFailed, codecs.paymentFailed),
      input(topics.paymentsRefunded, codecs.paymentRefunded),
      input(topics.inventoryReserved, codecs.inventoryReserved),
      input(topics.inventoryInsufficient, codecs.inventoryInsufficient),
      input(topics.picklistsCreated, codecs.picklistCreated),
      input(topics.shipmentsCreated, codecs.shipmentCreated),
      input(topics.ordersStatus, codecs.statusUpdated),
    ],
    outputs: {},
    ordering: 'ordered',
    exactlyOnce: false,
    handle: async (event, context) => {
      // Every outcome (applied, duplicate, held, ignored) settles the input: an ignored event is in
      // the history, a held one in the store. Only an exception (the database) is retried.
      await apply(event, context.topic);
      return emit();
    },
    stop: () => stopping.abort(),
    companion: new HeldEventSweep(deps),
  };
};

/** The companion: expire, dead-letter every one, wait, again. */
class HeldEventSweep implements StageCompanion {
  private readonly sweepMs: number;
  private readonly sleep: Sleep;

  constructor(private readonly deps: OrderViewStageDeps) {
    this.sweepMs = deps.sweepMs ?? DEFAULT_HOLD_SWEEP_MS;
    this.sleep = deps.sleep ?? realSleep;
  }

  async run({ deadLetter, signal }: StageCompanionContext): Promise<void> {
    const { view, clock, logger } = this.deps;
    while (!signal.aborted) {
      await this.sleep(this.sweepMs, signal);
      if (signal.aborted) return;
      let expired: readonly ExpiredHeldEvent[];
      try {
        expired = await view.expireHeld(clock.now());
      } catch (error) {
        // The next sweep tries again; the held events wait meanwhile, nothing is lost.
        logger.warn({ stage: ORDER_VIEW_STAGE_NAME, err: error instanceof Error ? error.message : String(error) }, 'Could not look for expired held events');
        continue;
      }
      for (const held of expired) {
        // False only at shutdown: the store hands it out again after the restart.
        if (!(await deadLetter(this.recordOf(held), rejection(VIEW_ORDER_UNKNOWN, HOLD_STEP, held.message)))) return;
      }
      if (expired.length > 0) logger.info({ stage: ORDER_VIEW_STAGE_NAME, count: expired.length }, 'Held events whose order never arrived dead-lettered');
    }
  }

  /**
   * The record a dead letter carries: the store keeps the event, not its record, so it is encoded
   * again by its type's codec (the same bytes a stage writes) and its position is unknown (-1).
   * replay-dlq puts it back on its topic, where the view holds it again or applies it.
   */
  private recordOf(held: ExpiredHeldEvent): InboundMessage {
    const encoded = encodeLifecycleEvent(this.deps.codecs, held.event);
    return {
      topic: held.topic,
      partition: -1,
      offset: '-1',
      key: typeof encoded.key === 'string' ? Buffer.from(encoded.key) : encoded.key,
      value: encoded.value,
      headers: encoded.headers ?? [],
      timestamp: Date.parse(held.event.occurred_at),
    };
  }
}
