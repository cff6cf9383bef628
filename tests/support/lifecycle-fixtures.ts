import { InMemoryInventory } from '../../src/adapters/memory/in-memory-inventory';
import { InMemoryPaymentLedger } from '../../src/adapters/memory/in-memory-payment-ledger';
import { ioTsLifecycleEventCodecs } from '../../src/adapters/io-ts/lifecycle-event-codec';
import { IoTsOrderCodec } from '../../src/adapters/io-ts/io-ts-order-codec';
import { ChargeRecord } from '../../src/adapters/payment/payment-ledger';
import { SimulatedPaymentGateway } from '../../src/adapters/payment/simulated-payment-gateway';
import { ChargeOutcome, RefundOutcome } from '../../src/application/ports/payment-gateway.port';
import { InboundMessage } from '../../src/application/ports/message-bus.port';
import { SpendCandidate, SpendJudgement, SpendLimitPort } from '../../src/application/ports/spend-limit.port';
import { lifecycleTopics, LifecycleTopics } from '../../src/application/stages/lifecycle-topics';
import { DEFAULT_FRAUD_LIMIT, SPEND_WINDOW_MS } from '../../src/application/stages/lifecycle/validation';
import { EventStage, StageOutcome } from '../../src/application/stages/stage';
import { SpendWindow } from '../../src/domain/lifecycle/spend-window';
import { RiskScorerRegistry } from '../../src/domain/risk';

/** The topics with no prefix, ORDERS_TOPIC at its default. */
export const TEST_TOPICS: LifecycleTopics = lifecycleTopics({ ordersTopic: 'orders.v1' });

/**
 * A SpendLimitPort on SpendWindow, local to the tests until the in-memory adapter lands
 * (src/adapters/memory/in-memory-spend-limit.ts, another branch). It records every judgement.
 */
export class WindowSpendLimit implements SpendLimitPort {
  readonly judged: SpendCandidate[] = [];
  private readonly window: SpendWindow;

  constructor(limit = DEFAULT_FRAUD_LIMIT) {
    this.window = new SpendWindow(SPEND_WINDOW_MS, limit);
  }

  async judge(candidate: SpendCandidate): Promise<SpendJudgement> {
    this.judged.push(candidate);
    return this.window.admit(candidate.customer, candidate.orderId, candidate.eventTimeMs, candidate.amount);
  }
}

/** The in-memory ledger, counting what it was asked to record: a charge recorded twice would be a double charge. */
export class PaymentLedgerSpy extends InMemoryPaymentLedger {
  readonly recordedCharges: ChargeRecord[] = [];
  refundCalls = 0;

  override async recordCharge(record: ChargeRecord): Promise<ChargeOutcome> {
    this.recordedCharges.push(record);
    return super.recordCharge(record);
  }

  override async recordRefund(orderId: string, refundId: string): Promise<RefundOutcome> {
    this.refundCalls++;
    return super.recordRefund(orderId, refundId);
  }

  chargesOf(orderId: string): ChargeRecord[] {
    return this.recordedCharges.filter((record) => record.orderId === orderId);
  }
}

/** Everything the five stages need, in memory; stock of APPLE and MILK, 100 each, unless given. */
export const lifecycleFixture = async (options: { fraudLimit?: number; paymentLimit?: number; stock?: Record<string, number> } = {}) => {
  const ledger = new PaymentLedgerSpy();
  const inventory = new InMemoryInventory();
  await inventory.seedMissing(new Map(Object.entries(options.stock ?? { APPLE: 100, MILK: 100 })));
  return {
    topics: TEST_TOPICS,
    codecs: ioTsLifecycleEventCodecs(),
    evaluation: { decoder: new IoTsOrderCodec(), scorers: new RiskScorerRegistry(), clock: { now: () => Date.parse('2026-11-22T10:00:05.000Z') } },
    maxMessageBytes: 1_048_576,
    spendLimit: new WindowSpendLimit(options.fraudLimit),
    fraudLimit: options.fraudLimit ?? DEFAULT_FRAUD_LIMIT,
    ledger,
    gateway: new SimulatedPaymentGateway(ledger, { limit: options.paymentLimit ?? 5_000, transientFailureRate: 0 }),
    inventory,
  };
};

/** A record on a topic, as the bus would deliver it. */
export const recordOn = (topic: string, value: Buffer | null, overrides: Partial<InboundMessage> = {}): InboundMessage => ({
  topic,
  partition: 0,
  offset: '0',
  key: null,
  value,
  headers: [],
  timestamp: Date.parse('2026-11-22T10:00:01.000Z'),
  ...overrides,
});

/** What a handled record became, encoded as the runner would publish it. */
export interface Delivered {
  readonly outcome: StageOutcome;
  /** Each emission encoded with its output's encoder, as the record the next stage reads (stamped with `timestamp`). */
  readonly records: InboundMessage[];
}

/**
 * Hands one record to a stage the way the StageRunner does (find the input by topic, decode,
 * handle), and encodes what it emitted into the records the next stage would read: the stages and
 * their codecs, end to end, with no bus in between.
 */
export const deliver = async (stage: EventStage, message: InboundMessage, publishedAt = message.timestamp + 1_000): Promise<Delivered> => {
  const input = stage.inputs.find((candidate) => candidate.topic === message.topic);
  if (input === undefined) throw new Error(`stage ${stage.name} reads no topic ${message.topic}`);
  const decoded = await input.codec.decode(message);
  const outcome: StageOutcome = decoded.ok ? await stage.handle(decoded.value, message) : { kind: 'reject', rejection: decoded.error };
  const records =
    outcome.kind === 'reject'
      ? []
      : outcome.emissions.map((emission, index) => {
          const output = stage.outputs[emission.output];
          if (output === undefined) throw new Error(`stage ${stage.name} emitted to undeclared output ${emission.output}`);
          const encoded = output.encoder.encode(emission.event);
          return recordOn(output.topic, encoded.value, {
            key: encoded.key === null ? null : Buffer.from(encoded.key),
            offset: String(index),
            timestamp: publishedAt,
            ...(encoded.headers === undefined ? {} : { headers: encoded.headers }),
          });
        });
  return { outcome, records };
};

/** The JSON of the records delivered to one topic. */
export const eventsOn = (delivered: Delivered, topic: string): Record<string, unknown>[] =>
  delivered.records.filter((record) => record.topic === topic).map((record) => JSON.parse(record.value!.toString('utf8')) as Record<string, unknown>);
