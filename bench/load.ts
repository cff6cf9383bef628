import { IoTsOrderCodec } from '../src/adapters/io-ts/io-ts-order-codec';
import { OrderGenerator } from '../src/application/order-generator';
import { MessageBusPort, OutboundMessage } from '../src/application/ports/message-bus.port';
import { createOrder } from '../src/domain/order';

const codec = new IoTsOrderCodec();

/**
 * Generated orders on the wire, keyed by id, as `orderflow produce` sends them. `producedAt`
 * stamps each order's event time: a fixed instant for pre-filled topics (so every order falls in
 * one date and one event-time span, and only the count cuts batched objects), the intended send
 * time for the open-loop scenario.
 */
export class OrderFactory {
  private producedAt = 0;
  private readonly generator: OrderGenerator;

  constructor(runId: string, seed = 42) {
    this.generator = new OrderGenerator({ seed, runId, now: () => this.producedAt });
  }

  next(producedAt: number): OutboundMessage {
    this.producedAt = producedAt;
    const order = createOrder(this.generator.next());
    if (!order.ok) throw new Error(`The generator made an invalid order: ${order.error.message}`);
    return { key: order.value.id, value: codec.encode(order.value) };
  }
}

/** Publishes `count` orders as fast as the broker takes them; returns the rate achieved. */
export const prefill = async (bus: MessageBusPort, topic: string, count: number, runId: string): Promise<number> => {
  const factory = new OrderFactory(runId);
  const producedAt = Date.now();
  return publishInChunks(
    count,
    (size) => Array.from({ length: size }, () => factory.next(producedAt)),
    (messages) => bus.publish(topic, messages),
  );
};

/**
 * The pre-fill's pattern, shared with the producer comparison (bench/produce-floor.ts): chunks of
 * 2,000, a few in flight. Returns messages/s.
 */
export const publishInChunks = async (
  count: number,
  chunkOf: (size: number, from: number) => readonly OutboundMessage[],
  send: (messages: readonly OutboundMessage[]) => Promise<unknown>,
): Promise<number> => {
  const started = performance.now();
  const pending = new Set<Promise<unknown>>();
  const chunk = 2_000;
  for (let sent = 0; sent < count; sent += chunk) {
    const publishing = send(chunkOf(Math.min(chunk, count - sent), sent));
    const tracked = publishing.finally(() => pending.delete(tracked));
    pending.add(tracked);
    // A few publishes in flight let the publisher fill its batches while the broker answers.
    if (pending.size >= 4) await Promise.race(pending);
  }
  await Promise.all(pending);
  return count / ((performance.now() - started) / 1000);
};

export interface OpenLoopOptions {
  readonly topic: string;
  readonly rate: number;
  /** When order 0 is due (epoch ms); order i is due at startAt + i / rate. */
  readonly startAt: number;
  readonly durationMs: number;
  readonly runId: string;
}

export interface OpenLoopReport {
  readonly sent: number;
  readonly failed: number;
  /** How far behind its schedule the generator fell at worst (the latency figures do not depend on it). */
  readonly worstSendDelayMs: number;
}

/**
 * An open-loop load: order i carries its *intended* send time as produced_at, and is sent at that
 * time or as soon after as the generator gets to it — never later because the service was slow.
 * Latency measured from produced_at therefore includes any time the order waited to be sent, and
 * coordinated omission cannot hide a stall.
 */
export const openLoop = async (bus: MessageBusPort, options: OpenLoopOptions): Promise<OpenLoopReport> => {
  const factory = new OrderFactory(options.runId, 7);
  const total = Math.round((options.rate * options.durationMs) / 1000);
  const intendedAt = (i: number): number => Math.floor(options.startAt + (i * 1000) / options.rate);
  const pending = new Set<Promise<void>>();
  let next = 0;
  let failed = 0;
  let worstSendDelayMs = 0;
  while (next < total) {
    const now = Date.now();
    const due = Math.min(total, Math.floor(((now - options.startAt) * options.rate) / 1000) + 1);
    if (due > next) {
      worstSendDelayMs = Math.max(worstSendDelayMs, now - intendedAt(next));
      const messages: OutboundMessage[] = [];
      for (; next < due; next++) messages.push(factory.next(intendedAt(next)));
      const count = messages.length;
      const publishing = bus.publish(options.topic, messages).catch(() => void (failed += count));
      const tracked = publishing.finally(() => pending.delete(tracked));
      pending.add(tracked);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(intendedAt(next) - Date.now(), 5))));
  }
  await Promise.all(pending);
  return { sent: total, failed, worstSendDelayMs };
};
