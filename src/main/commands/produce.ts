import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { OrderGenerator } from '../../application/order-generator';
import { MessageBusPort, OutboundMessage } from '../../application/ports/message-bus.port';
import { OrderDecoderPort, OrderEncoderPort } from '../../application/ports/order-decoder.port';
import { createOrder } from '../../domain/order';

export interface ProduceOptions {
  readonly topic: string;
  /** Generated orders, when no input is given. */
  readonly count?: number;
  /** Orders per second at most; unlimited when absent. */
  readonly rate?: number;
  /** NDJSON input: a file path, or a readable (stdin). */
  readonly input?: Readable;
  /** Send NDJSON lines as they are, valid or not (to exercise the dead-letter path). */
  readonly raw: boolean;
  readonly onProgress?: (summary: ProduceSummary) => void;
}

export interface ProduceSummary {
  sent: number;
  delivered: number;
  failed: number;
  /** NDJSON lines that were not valid orders (not sent unless --raw). */
  invalid: number;
  elapsedMs: number;
  readonly errors: string[];
}

/** Messages per publish call: large enough to batch, small enough to pace a rate smoothly. */
const CHUNK = 100;
/** Publish calls in flight: lets the Kafka bus coalesce them into larger produce requests. */
const MAX_PENDING = 8;
const MAX_ERRORS_KEPT = 20;

/**
 * Publishes generated orders or NDJSON orders, keyed by order id, paced to a rate if asked.
 * Every message is counted as delivered or failed, so the summary is an honest account.
 */
export const produce = async (
  bus: MessageBusPort,
  codec: OrderDecoderPort & OrderEncoderPort,
  options: ProduceOptions,
): Promise<ProduceSummary> => {
  const summary: ProduceSummary = { sent: 0, delivered: 0, failed: 0, invalid: 0, elapsedMs: 0, errors: [] };
  const started = Date.now();
  const pending = new Set<Promise<void>>();
  const note = (error: string): void => {
    if (summary.errors.length < MAX_ERRORS_KEPT) summary.errors.push(error);
  };

  const send = async (chunk: OutboundMessage[]): Promise<void> => {
    if (options.rate !== undefined) {
      // Pace by the schedule, not by the last send: a slow send is caught up, not compounded.
      const due = started + (summary.sent / options.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    summary.sent += chunk.length;
    const publishing = bus.publish(options.topic, chunk).then(
      () => {
        summary.delivered += chunk.length;
      },
      (error: unknown) => {
        summary.failed += chunk.length;
        note(`delivery of ${chunk.length} messages failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    const tracked = publishing.finally(() => pending.delete(tracked));
    pending.add(tracked);
    if (pending.size >= MAX_PENDING) await Promise.race(pending);
    options.onProgress?.(summary);
  };

  let chunk: OutboundMessage[] = [];
  const push = async (message: OutboundMessage): Promise<void> => {
    chunk.push(message);
    if (chunk.length >= chunkSize(options.rate)) {
      const full = chunk;
      chunk = [];
      await send(full);
    }
  };

  if (options.input !== undefined) {
    let line = 0;
    for await (const text of createInterface({ input: options.input, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      const bytes = Buffer.from(text, 'utf8');
      const decoded = codec.decode(bytes);
      if (!decoded.ok) {
        summary.invalid++;
        note(`line ${line}: ${decoded.error.code}: ${decoded.error.message}`);
        if (options.raw) await push({ key: null, value: bytes });
        continue;
      }
      await push({ key: decoded.value.id, value: options.raw ? bytes : codec.encode(decoded.value) });
    }
  } else {
    const generator = new OrderGenerator({ seed: Date.now() % 2 ** 31 });
    for (let i = 0; i < (options.count ?? 0); i++) {
      const order = createOrder(generator.next());
      if (!order.ok) throw new Error(`The generator made an invalid order: ${order.error.message}`);
      await push({ key: order.value.id, value: codec.encode(order.value) });
    }
  }
  if (chunk.length > 0) await send(chunk);
  await Promise.all(pending);
  summary.elapsedMs = Date.now() - started;
  return summary;
};

/** At low rates, send smaller chunks so pacing stays smooth (about 10 sends a second). */
const chunkSize = (rate: number | undefined): number =>
  rate === undefined ? CHUNK : Math.max(1, Math.min(CHUNK, Math.floor(rate / 10)));

export const openInput = (file: string | undefined, stdin: Readable): Readable | undefined =>
  file === undefined ? undefined : file === '-' ? stdin : createReadStream(file);

export const formatProduceSummary = (s: ProduceSummary, topic: string): string => {
  const seconds = s.elapsedMs / 1000;
  return [
    `orderflow produce → ${topic}`,
    `  sent       ${s.sent.toLocaleString('en-US')}`,
    `  delivered  ${s.delivered.toLocaleString('en-US')} (acks=all)`,
    `  failed     ${s.failed.toLocaleString('en-US')}`,
    ...(s.invalid > 0 ? [`  invalid    ${s.invalid.toLocaleString('en-US')} NDJSON lines were not valid orders`] : []),
    `  elapsed    ${seconds.toFixed(2)} s (${Math.round(s.delivered / Math.max(seconds, 0.001)).toLocaleString('en-US')} orders/s)`,
    ...s.errors.map((e) => `  ! ${e}`),
    '',
  ].join('\n');
};
