import { statusUpdateIdOf } from '../../domain/lifecycle/event-id';
import { OrderStatusUpdated, SCHEMA_VERSION } from '../../domain/lifecycle/events';
import { canMove, OrderStatus } from '../../domain/lifecycle/order-status';
import { ClockPort } from '../ports/clock.port';
import { MessageBusPort } from '../ports/message-bus.port';
import { OrderViewQueries } from '../ports/order-view.port';
import { OutputEncoder } from '../stages/stage';
import { sendWithin } from './send-bound';

export interface SetOrderStatusDeps {
  readonly bus: MessageBusPort;
  readonly view: Pick<OrderViewQueries, 'get'>;
  /** codecs.statusUpdated. */
  readonly encoder: OutputEncoder<OrderStatusUpdated>;
  readonly clock: ClockPort;
}

export interface SetOrderStatusSettings {
  /** LifecycleTopics.ordersStatus. */
  readonly statusTopic: string;
  readonly sendTimeoutMs: number;
}

export namespace SetOrderStatus {
  export interface Params {
    readonly orderId: string;
    readonly status: OrderStatus;
    readonly reason?: string;
  }

  export type Result =
    /** Published to orders.status; the view applies it (asynchronously) through the status machine. */
    | { readonly kind: 'accepted'; readonly orderId: string; readonly status: OrderStatus; readonly eventId: string }
    | { readonly kind: 'not-found'; readonly orderId: string }
    /** The status machine forbids the move from the view's current status (staying counts as a move it forbids). */
    | { readonly kind: 'forbidden'; readonly orderId: string; readonly from: OrderStatus; readonly to: OrderStatus }
    | { readonly kind: 'unavailable'; readonly orderId: string; readonly reason: string };
}

/**
 * PUT /orders/{id}/status as a use case: checked against the view's current status, published as
 * OrderStatusUpdated. Its id is statusUpdateIdOf(order, status), so a retry (after a 503 too)
 * repeats the event and the view applies it once: no claim is needed here.
 *
 * The check reads the view, which may lag the stages: a move the view allows may be one the
 * order has passed meanwhile. The view applies the event through canMove again and records a
 * refused one in the history (ApplyOutcome `ignored`), so the race costs nothing but the 202.
 */
export class SetOrderStatus {
  constructor(
    private readonly deps: SetOrderStatusDeps,
    private readonly settings: SetOrderStatusSettings,
  ) {}

  async execute({ orderId, status, reason }: SetOrderStatus.Params): Promise<SetOrderStatus.Result> {
    const current = await this.deps.view.get(orderId);
    if (current === undefined) return { kind: 'not-found', orderId };
    if (!canMove(current.status, status)) return { kind: 'forbidden', orderId, from: current.status, to: status };
    const event: OrderStatusUpdated = {
      event_id: statusUpdateIdOf(orderId, status),
      event_type: 'status-updated',
      order_id: orderId,
      occurred_at: new Date(this.deps.clock.now()).toISOString(),
      schema_version: SCHEMA_VERSION,
      status,
      ...(reason === undefined ? {} : { reason }),
    };
    const encoded = this.deps.encoder.encode(event);
    const sent = await sendWithin(
      this.deps.bus.publish(this.settings.statusTopic, [{ key: encoded.key, value: encoded.value, ...(encoded.headers === undefined ? {} : { headers: encoded.headers }) }]),
      this.settings.sendTimeoutMs,
    );
    if (sent.kind === 'acked') return { kind: 'accepted', orderId, status, eventId: event.event_id };
    const why = sent.kind === 'timed-out' ? `the broker did not acknowledge within ${this.settings.sendTimeoutMs} ms` : `the broker refused the record: ${sent.error.message}`;
    return { kind: 'unavailable', orderId, reason: why };
  }
}
