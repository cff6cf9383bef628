import { createHash } from 'node:crypto';
import { ClockPort } from '../ports/clock.port';
import { IdempotencyRecordsPort } from '../ports/idempotency-records.port';
import { LoggerPort } from '../ports/logger.port';
import { MessageBusPort } from '../ports/message-bus.port';
import { ExplainingOrderDecoderPort, InvalidField, OrderEncoderPort } from '../ports/order-decoder.port';
import { OrderIdClaimsPort } from '../ports/order-id-claims.port';
import { OrderViewQueries } from '../ports/order-view.port';
import { RejectionCode } from '../../domain/rejection';
import { sendWithin } from './send-bound';

const HOUR_MS = 60 * 60 * 1000;
/** How long an Idempotency-Key's first answer is kept, and an id's claim (the view has the order long before). */
export const IDEMPOTENCY_TTL_MS = 24 * HOUR_MS;
/** How often a PlaceOrder forgets what is past IDEMPOTENCY_TTL_MS. */
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export interface PlaceOrderDeps {
  /** The consumer's decoder (TOKENS.OrderDecoder): the API accepts exactly what the stages would. */
  readonly decoder: ExplainingOrderDecoderPort;
  readonly encoder: OrderEncoderPort;
  readonly bus: MessageBusPort;
  readonly view: Pick<OrderViewQueries, 'get'>;
  readonly claims: OrderIdClaimsPort;
  readonly idempotency: IdempotencyRecordsPort;
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  /** The id of an order whose body names none (a UUID in production). */
  readonly newId: () => string;
}

export interface PlaceOrderSettings {
  /** ORDERS_TOPIC. */
  readonly ordersTopic: string;
  /** ORDERFLOW_API_SEND_TIMEOUT_MS: how long a request waits for the broker's acknowledgement. */
  readonly sendTimeoutMs: number;
}

export namespace PlaceOrder {
  export interface Params {
    /** The request's body as it came: the decoder sees these bytes (with a generated id, when none was given). */
    readonly body: Buffer;
    readonly idempotencyKey?: string;
    /** Who asks (a hash of the token, `anonymous` without auth): keys of two clients never meet. */
    readonly scope: string;
  }

  export type Result =
    /** The broker acknowledged the order (acks=all). */
    | { readonly kind: 'placed'; readonly orderId: string }
    /** The decoder refused it: its code and message, and every invalid field. */
    | { readonly kind: 'invalid'; readonly code: RejectionCode; readonly message: string; readonly fields: readonly InvalidField[] }
    /** The id is in the view, or claimed by another request (in flight, published, or uncertain with another body). */
    | { readonly kind: 'exists'; readonly orderId: string }
    /** The broker did not acknowledge within the send timeout, or refused: maybe written; the same body may be retried. */
    | { readonly kind: 'unavailable'; readonly orderId: string; readonly reason: string }
    /** The Idempotency-Key was used for another request. */
    | { readonly kind: 'key-reused' }
    /** The first request with this Idempotency-Key is still being answered. */
    | { readonly kind: 'key-in-progress' };
}

/** Answers a retry under the same Idempotency-Key gets again; the others are not final (503) or not the request's (409, 422). */
const isFinal = (result: PlaceOrder.Result): boolean => result.kind === 'placed' || result.kind === 'invalid' || result.kind === 'exists';

/**
 * POST /orders as a use case (adr/0019): decode with the consumer's decoder, claim the id, publish
 * to the orders topic within the send timeout, and settle the claim by what the broker said.
 *
 * Nothing is half-written: a send that timed out or failed may still have been appended (the
 * request sits in a frozen broker's socket), so its claim becomes `uncertain` rather than free
 * (a different order could then take the id) or published (the order may never exist). Only the
 * same body may claim an uncertain id again, and publishes it again: a duplicate record on the
 * orders topic is harmless, every consumer being idempotent by order id and event id. When the
 * view shows the order by then (the broker did append it), the retry is answered 201 without
 * publishing: it is the same order, not a duplicate of someone else's.
 */
export class PlaceOrder {
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: PlaceOrderDeps,
    private readonly settings: PlaceOrderSettings,
  ) {}

  async execute(params: PlaceOrder.Params): Promise<PlaceOrder.Result> {
    this.pruneNowAndThen();
    if (params.idempotencyKey === undefined) return this.place(params.body);
    const { idempotency, clock } = this.deps;
    const key = `${params.scope}:${params.idempotencyKey}`;
    const nowMs = clock.now();
    const started = await idempotency.start({
      key,
      fingerprint: sha256(Buffer.concat([Buffer.from('place-order\n'), params.body])),
      nowMs,
      expiredBeforeMs: nowMs - IDEMPOTENCY_TTL_MS,
      inProgressStaleBeforeMs: nowMs - this.staleAfterMs(),
    });
    switch (started.kind) {
      case 'completed':
        return JSON.parse(started.answer) as PlaceOrder.Result;
      case 'in-progress':
        return { kind: 'key-in-progress' };
      case 'mismatch':
        return { kind: 'key-reused' };
      case 'started':
        break;
    }
    let result: PlaceOrder.Result | undefined;
    try {
      result = await this.place(params.body);
      return result;
    } finally {
      // A throw (a store down) is no answer either: the key is free for the retry.
      if (result !== undefined && isFinal(result)) await idempotency.complete(key, started.token, JSON.stringify(result), clock.now());
      else await idempotency.abandon(key, started.token);
    }
  }

  private async place(given: Buffer): Promise<PlaceOrder.Result> {
    const { decoder, encoder, bus, view, claims, clock, logger } = this.deps;
    const body = this.withId(given);
    const decoded = decoder.decodeExplained(body);
    if (!decoded.ok) return { kind: 'invalid', code: decoded.error.code, message: decoded.error.message, fields: decoded.error.fields };
    const order = decoded.value;
    const inView = (await view.get(order.id)) !== undefined;
    const nowMs = clock.now();
    const claim = await claims.claim({ orderId: order.id, bodySha256: sha256(body), nowMs, inFlightStaleBeforeMs: nowMs - this.staleAfterMs() });
    if (claim.kind === 'taken') return { kind: 'exists', orderId: order.id };
    if (inView) {
      // The view has it and this body held the id, uncertain: the broker appended the record a
      // 503 could not confirm, and this is the client's retry of it, so its order. Without that
      // claim the id came some other way (straight to the topic, or claimed over 24 h ago).
      await claims.settle(order.id, claim.token, 'published');
      return claim.tookOver ? { kind: 'placed', orderId: order.id } : { kind: 'exists', orderId: order.id };
    }
    const sent = await sendWithin(bus.publish(this.settings.ordersTopic, [{ key: order.id, value: encoder.encode(order) }]), this.settings.sendTimeoutMs);
    if (sent.kind === 'acked') {
      await claims.settle(order.id, claim.token, 'published');
      return { kind: 'placed', orderId: order.id };
    }
    await claims.settle(order.id, claim.token, 'uncertain');
    const reason =
      sent.kind === 'timed-out' ? `the broker did not acknowledge within ${this.settings.sendTimeoutMs} ms` : `the broker refused the record: ${sent.error.message}`;
    logger.warn({ orderId: order.id, topic: this.settings.ordersTopic, reason }, 'Order not acknowledged; its id stays claimed for the same body');
    return { kind: 'unavailable', orderId: order.id, reason };
  }

  /**
   * The id is optional on the API (the consumer requires it): a JSON object without `id` gets a
   * new one before the decoder sees it. Anything else goes to the decoder as it is, which says
   * what is wrong with it in the consumer's words.
   */
  private withId(body: Buffer): Buffer {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return body;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json) || Object.hasOwn(json, 'id')) return body;
    return Buffer.from(JSON.stringify({ id: this.deps.newId(), ...json }));
  }

  /** A request still in flight after ten send timeouts (at least a minute) is one whose instance died. */
  private staleAfterMs(): number {
    return Math.max(60_000, 10 * this.settings.sendTimeoutMs);
  }

  private pruneNowAndThen(): void {
    const nowMs = this.deps.clock.now();
    if (nowMs - this.lastPruneMs < PRUNE_EVERY_MS) return;
    this.lastPruneMs = nowMs;
    const horizon = nowMs - IDEMPOTENCY_TTL_MS;
    Promise.all([this.deps.claims.prune(horizon), this.deps.idempotency.prune(horizon)]).then(
      ([claims, records]) => {
        if (claims + records > 0) this.deps.logger.debug({ claims, records }, 'Forgot API requests older than 24 h');
      },
      (error: unknown) => this.deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'Could not forget old API requests; tried again later'),
    );
  }
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
