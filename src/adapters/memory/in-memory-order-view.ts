import { ClockPort } from '../../application/ports/clock.port';
import {
  ApplyOutcome,
  ExpiredHeldEvent,
  HeldEventBounds,
  OrderListQuery,
  OrderPage,
  OrderView,
  OrderViewQueries,
  OrderViewStore,
} from '../../application/ports/order-view.port';
import {
  assertHeldEventBounds,
  assertListQuery,
  compareListPosition,
  DEFAULT_HELD_EVENT_BOUNDS,
  encodeCursor,
  expiredByAge,
  HeldEventsFullError,
  VIEW_ORDER_UNKNOWN,
} from '../../application/order-view';
import { LifecycleEvent } from '../../domain/lifecycle/events';
import { applyToView, byOccurrence, createView } from '../../domain/lifecycle/order-view';

export interface InMemoryOrderViewOptions {
  readonly bounds?: HeldEventBounds;
  /** The view's clock: when an event was held, for the age bound. */
  readonly clock?: ClockPort;
}

interface Held {
  readonly event: LifecycleEvent;
  readonly topic: string;
  readonly heldAtMs: number;
}

/**
 * The order view in memory, for the embedded default and the unit tests: the domain's rules as
 * they are, so the same contract suite as PostgresOrderView. Each call runs to completion without
 * awaiting (one event loop), which makes an event, its duplicate check and its history entry
 * atomic. Rows and held events end with the process; a listener hears only this instance.
 */
export class InMemoryOrderView implements OrderViewStore, OrderViewQueries {
  private readonly bounds: HeldEventBounds;
  private readonly clock: ClockPort;
  private readonly rows = new Map<string, OrderView>();
  /** By event id, in the order they were held (a Map keeps insertion order): the first is the oldest. */
  private readonly held = new Map<string, Held>();
  private readonly listeners = new Set<(orderId: string) => void>();

  constructor({ bounds = DEFAULT_HELD_EVENT_BOUNDS, clock = { now: () => Date.now() } }: InMemoryOrderViewOptions = {}) {
    assertHeldEventBounds(bounds);
    this.bounds = bounds;
    this.clock = clock;
  }

  async apply(event: LifecycleEvent, topic: string): Promise<ApplyOutcome> {
    const row = this.rows.get(event.order_id);
    if (row === undefined) return event.event_type === 'placed' ? this.create(event) : this.hold(event, topic);
    const step = applyToView(row, event);
    if (step.kind === 'duplicate') return step;
    this.rows.set(row.orderId, step.view);
    this.changed(row.orderId);
    return step.kind === 'applied' ? step : { kind: 'ignored', reason: step.reason };
  }

  async expireHeld(nowMs: number): Promise<readonly ExpiredHeldEvent[]> {
    const expired: ExpiredHeldEvent[] = [];
    for (const [eventId, held] of this.held) {
      if (nowMs - held.heldAtMs < this.bounds.maxAgeMs) continue;
      this.held.delete(eventId);
      expired.push(expiredOf(held, expiredByAge(held.event.order_id, held.heldAtMs, nowMs, this.bounds)));
    }
    return expired;
  }

  async get(orderId: string): Promise<OrderView | undefined> {
    return this.rows.get(orderId);
  }

  async list(query: OrderListQuery): Promise<OrderPage> {
    const after = assertListQuery(query);
    const matching = [...this.rows.values()]
      .filter((row) => (query.status === undefined || row.status === query.status) && (query.customer === undefined || row.customer === query.customer))
      .filter((row) => after === undefined || compareListPosition(row, after) > 0)
      .sort(compareListPosition);
    const orders = matching.slice(0, query.limit);
    const last = orders[orders.length - 1];
    return matching.length > query.limit && last !== undefined ? { orders, nextCursor: encodeCursor(last) } : { orders };
  }

  onChange(listener: (orderId: string) => void): () => void {
    // A listener of its own, so that subscribing one function twice unsubscribes each separately.
    const own = (orderId: string): void => listener(orderId);
    this.listeners.add(own);
    return () => {
      this.listeners.delete(own);
    };
  }

  /** Held events in all (metrics, tests); the expired ones not yet handed out are not counted. */
  get heldCount(): number {
    return this.held.size;
  }

  private create(placed: Extract<LifecycleEvent, { event_type: 'placed' }>): ApplyOutcome {
    let view = createView(placed);
    const waiting = [...this.held.entries()].filter(([, held]) => held.event.order_id === placed.order_id);
    for (const [eventId] of waiting) this.held.delete(eventId);
    for (const [, held] of waiting.sort(([, a], [, b]) => byOccurrence(a, b))) {
      const step = applyToView(view, held.event);
      if (step.kind !== 'duplicate') view = step.view;
    }
    this.rows.set(view.orderId, view);
    this.changed(view.orderId);
    return { kind: 'applied', view };
  }

  private hold(event: LifecycleEvent, topic: string): ApplyOutcome {
    if (this.held.has(event.event_id)) return { kind: 'held' };
    if (this.held.size >= this.bounds.maxEvents) throw new HeldEventsFullError(event.order_id, this.bounds);
    this.held.set(event.event_id, { event, topic, heldAtMs: this.clock.now() });
    return { kind: 'held' };
  }

  private changed(orderId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(orderId);
      } catch {
        // A listener's failure is its own (a waiter whose socket closed): the change stands, and the other listeners hear it.
      }
    }
  }
}

const expiredOf = (held: Held, message: string): ExpiredHeldEvent => ({ event: held.event, topic: held.topic, code: VIEW_ORDER_UNKNOWN, message });
