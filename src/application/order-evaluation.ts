import { EnrichedOrder, enrich, eventTimeOf } from '../domain/enriched-order';
import { Order } from '../domain/order';
import { rejection, Rejection } from '../domain/rejection';
import { err, ok, Result } from '../domain/result';
import { RiskScorerRegistry } from '../domain/risk';
import { ClockPort } from './ports/clock.port';
import { InboundMessage } from './ports/message-bus.port';
import { OrderDecoderPort } from './ports/order-decoder.port';

export interface OrderEvaluationDeps {
  readonly decoder: OrderDecoderPort;
  readonly scorers: RiskScorerRegistry;
  readonly clock: ClockPort;
}

export interface EvaluatedOrder {
  readonly order: Order;
  readonly record: EnrichedOrder;
  /** The order's event time (produced_at, else the record timestamp): what `dt` is derived from. */
  readonly eventTimeMs: number;
}

/**
 * What a message means before any sink writes it: size check → decode → score → enrich. A
 * failure is a Rejection for the dead-letter topic, never an exception. Every sink runs the same
 * steps, so the per-order and the batched sink archive the same record for the same message.
 */
export const evaluateMessage = (
  message: InboundMessage,
  deps: OrderEvaluationDeps,
  maxMessageBytes: number,
): Result<Rejection, EvaluatedOrder> => {
  const { value } = message;
  if (value === null || value.length === 0) return err(rejection('MESSAGE.EMPTY', 'decode', 'Empty message: expected an order as JSON'));
  if (value.length > maxMessageBytes) {
    return err(rejection('MESSAGE.TOO_LARGE', 'decode', `Message of ${value.length} bytes exceeds the limit of ${maxMessageBytes} bytes`));
  }
  const decoded = deps.decoder.decode(value);
  if (!decoded.ok) return decoded;
  const order = decoded.value;
  const score = deps.scorers.score(order);
  if (!score.ok) return score;
  const record = enrich(order, score.value, deps.clock.now(), message.timestamp);
  return ok({ order, record, eventTimeMs: eventTimeOf(order, message.timestamp) });
};
