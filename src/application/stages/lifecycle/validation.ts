import { eventIdOf } from '../../../domain/lifecycle/event-id';
import {
  deliverableOf,
  eventLinesOf,
  factsOf,
  occurredAtOf,
  OrderPlaced,
  OrderRejected,
  orderLinesOf,
  OrderValidated,
  SCHEMA_VERSION,
} from '../../../domain/lifecycle/events';
import { LifecycleReason, lineReasons } from '../../../domain/lifecycle/order-lines';
import { currencyOf } from '../../../domain/order';
import { evaluateMessage, EvaluatedOrder, OrderEvaluationDeps } from '../../order-evaluation';
import { SpendLimitPort } from '../../ports/spend-limit.port';
import { LifecycleTopics } from '../lifecycle-topics';
import { rejection } from '../../../domain/rejection';
import { spendCandidateProblem } from '../../spend-limit';
import { emit, EventStage, MessageContext, rejectInput, StageOutcome } from '../stage';
import { LifecycleEventCodecs } from './event-codecs';
import { mapInput, outputsOf, typedOutput } from './stage-parts';

/** The spend limit's window (issue 10): a customer's admitted spend in the hour up to an order's event time. */
export const SPEND_WINDOW_MS = 60 * 60 * 1000;
/** ORDERFLOW_FRAUD_LIMIT's default. */
export const DEFAULT_FRAUD_LIMIT = 10_000;

export interface ValidationStageDeps {
  readonly topics: LifecycleTopics;
  readonly codecs: LifecycleEventCodecs;
  /**
   * How a placed order is read: the archive's own evaluation (size, decode, event time, risk
   * score), so that the two stages reading the orders topic dead-letter the same messages.
   */
  readonly evaluation: OrderEvaluationDeps;
  readonly maxMessageBytes: number;
  /** Judges over SPEND_WINDOW_MS with the fraud limit (the composition root builds it so). */
  readonly spendLimit: SpendLimitPort;
  /** The limit spendLimit judges by (ORDERFLOW_FRAUD_LIMIT): only named in the rejection's message. */
  readonly fraudLimit: number;
}

type ValidationInput = { readonly kind: 'order'; readonly order: EvaluatedOrder } | { readonly kind: 'placed'; readonly event: OrderPlaced };

/**
 * Validation, in two steps over two inputs, as a Kafka Streams topology with a repartition:
 * 1. a placed order (the orders topic, keyed by order id) is decoded and scored exactly as the
 *    archive does it (a malformed one is dead-lettered), then re-keyed by customer onto the
 *    repartition topic, so that one partition holds every order of a customer;
 * 2. from there, the business rules: the lines (all reasons at once), then, only when they pass,
 *    the customer's spend over the last hour of event time. The order is validated, or rejected
 *    with every reason.
 * Ordered: the spend window's decisions depend on the order of the repartition topic, and its
 * state is rebuilt by replaying it (adr/0014).
 */
export const validationStage = (deps: ValidationStageDeps): EventStage<ValidationInput> => {
  const { topics, codecs, spendLimit, fraudLimit } = deps;
  const byCustomer = typedOutput('by-customer', topics.ordersByCustomer, codecs.placed);
  const validated = typedOutput('validated', topics.ordersValidated, codecs.validated);
  const rejected = typedOutput('rejected', topics.ordersRejected, codecs.rejected);

  const repartition = ({ order, record, eventTimeMs }: EvaluatedOrder): StageOutcome =>
    emit(
      byCustomer.emit({
        event_id: eventIdOf(order.id, 'placed'),
        event_type: 'placed',
        order_id: order.id,
        // The order's event time: what the spend window judges it at, and when it was placed.
        occurred_at: new Date(eventTimeMs).toISOString(),
        schema_version: SCHEMA_VERSION,
        customer: order.customer,
        total: order.total,
        currency: currencyOf(order),
        channel: order.channel,
        risk_score: record.risk_score,
        high_risk: record.high_risk,
        ...(order.items === undefined ? {} : { items: eventLinesOf(order.items) }),
        ...(order.shippingAddress === undefined ? {} : { shipping_address: order.shippingAddress }),
      }),
    );

  const judge = async (placed: OrderPlaced, context: MessageContext): Promise<StageOutcome> => {
    const reasons: LifecycleReason[] = lineReasons(placed.items === undefined ? undefined : orderLinesOf(placed.items), placed.total);
    // Spend is judged only for an order that could be accepted: a refused order spends nothing,
    // and judging one would record it in the window.
    if (reasons.length === 0) {
      const candidate = { customer: placed.customer, orderId: placed.order_id, eventTimeMs: Date.parse(placed.occurred_at), amount: placed.total };
      // The store throws on what it cannot judge (an amount past what cents hold exactly), and a
      // throw is retried for ever: such an input is a dead letter instead.
      const problem = spendCandidateProblem(candidate);
      if (problem !== undefined) return rejectInput(rejection('EVENT.SCHEMA_VIOLATION', 'validate', `The spend limit cannot judge this order: ${problem}`));
      const judgement = await spendLimit.judge(candidate);
      if (!judgement.admitted) reasons.push(spendLimitExceeded(judgement.spentBefore, placed.total, fraudLimit));
    }
    const common = { order_id: placed.order_id, occurred_at: occurredAtOf(placed.occurred_at, context.timestamp), schema_version: SCHEMA_VERSION } as const;
    if (reasons.length > 0) {
      const event: OrderRejected = {
        event_id: eventIdOf(placed.order_id, 'rejected'),
        event_type: 'rejected',
        ...common,
        ...factsOf(placed),
        reasons: reasons.map(({ code, message }) => ({ code, message })),
      };
      return emit(rejected.emit(event));
    }
    const event: OrderValidated = {
      event_id: eventIdOf(placed.order_id, 'validated'),
      event_type: 'validated',
      ...common,
      ...factsOf(placed),
      channel: placed.channel,
      risk_score: placed.risk_score,
      high_risk: placed.high_risk,
      ...deliverableOf(placed),
    };
    return emit(validated.emit(event));
  };

  return {
    kind: 'event',
    name: 'validation',
    inputs: [
      {
        topic: topics.orders,
        codec: mapInput({ decode: (message) => evaluateMessage(message, deps.evaluation, deps.maxMessageBytes) }, (order): ValidationInput => ({ kind: 'order', order })),
      },
      { topic: topics.ordersByCustomer, codec: mapInput(codecs.placed, (event): ValidationInput => ({ kind: 'placed', event })) },
    ],
    outputs: outputsOf(byCustomer, validated, rejected),
    ordering: 'ordered',
    exactlyOnce: true,
    handle: (input, context) => (input.kind === 'order' ? repartition(input.order) : judge(input.event, context)),
  };
};

const spendLimitExceeded = (spentBefore: number, total: number, limit: number): LifecycleReason => ({
  code: 'ORDER.SPEND_LIMIT_EXCEEDED',
  message: `The customer spent ${spentBefore.toFixed(2)} in the ${SPEND_WINDOW_MS / 60_000} minutes up to this order; its ${total.toFixed(2)} would take them over the spend limit of ${limit.toFixed(2)}`,
});
