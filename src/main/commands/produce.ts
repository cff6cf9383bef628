import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { evaluateMessage, OrderEvaluationDeps } from '../../application/order-evaluation';
import { OrderGenerator } from '../../application/order-generator';
import { MessageBusPort, OutboundMessage } from '../../application/ports/message-bus.port';
import { OrderEncoderPort } from '../../application/ports/order-decoder.port';
import { createOrder } from '../../domain/order';

export interface ProduceOptions {
  readonly topic: string;
  /** Orders per second at most; unlimited when absent. */
  readonly rate?: number;
  readonly onProgress?: (summary: ProduceSummary) => void;
}

export interface ProduceSummary {
  sent: number;
  delivered: number;
  failed: number;
  /** NDJSON lines that were not valid orders. */
  invalid: number;
  elapsedMs: number;
  readonly errors: string[];
}

/** An NDJSON input, read and checked whole before anything is published. */
export interface CheckedInput {
  /** What would be published: valid orders re-encoded, or with --raw every line as it is. */
  readonly messages: readonly OutboundMessage[];
  /** Non-empty lines read. */
  readonly lines: number;
  readonly invalid: number;
  readonly errors: readonly string[];
}

/** One line's verdict: the message to publish, or why the consumer would dead-letter it. */
export type LineCheck = (bytes: Buffer) => { readonly ok: true; readonly message: OutboundMessage } | { readonly ok: false; readonly reason: string };

/** Messages per publish call: large enough to batch, small enough to pace a rate smoothly. */
const CHUNK = 100;
/** Publish calls in flight: lets the Kafka bus coalesce them into larger produce requests. */
const MAX_PENDING = 8;
const MAX_ERRORS_KEPT = 20;

/**
 * A line is checked as the consumer will evaluate it (the same evaluateMessage: size, decoding,
 * the schema, a known channel), so a file `produce` accepts is one `consume` archives whole.
 */
export const consumerCheck =
  (deps: OrderEvaluationDeps & { readonly encoder: OrderEncoderPort }, topic: string, maxMessageBytes: number): LineCheck =>
  (bytes) => {
    const evaluated = evaluateMessage(
      { topic, partition: 0, offset: '0', key: null, value: bytes, headers: [], timestamp: deps.clock.now() },
      deps,
      maxMessageBytes,
    );
    if (!evaluated.ok) return { ok: false, reason: `${evaluated.error.code}: ${evaluated.error.message}` };
    const { order } = evaluated.value;
    return { ok: true, message: { key: order.id, value: deps.encoder.encode(order) } };
  };

/**
 * Reads a whole NDJSON input and checks every line before anything is sent: a partly broken
 * file is refused as a whole instead of half published. It is held in memory, which bounds the
 * file size to what the process can hold (orders are small: a million is a few hundred MB).
 * With `raw`, every line is kept as it is, valid or not (to exercise the dead-letter path).
 */
export const readOrders = async (input: Readable, check: LineCheck, raw: boolean): Promise<CheckedInput> => {
  const messages: OutboundMessage[] = [];
  const errors: string[] = [];
  let lines = 0;
  let invalid = 0;
  let number = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    number++;
    if (text.trim() === '') continue;
    lines++;
    const bytes = Buffer.from(text, 'utf8');
    const checked = check(bytes);
    if (checked.ok) {
      messages.push(raw ? { key: checked.message.key, value: bytes } : checked.message);
      continue;
    }
    invalid++;
    if (errors.length < MAX_ERRORS_KEPT) errors.push(`line ${number}: ${checked.reason}`);
    if (raw) messages.push({ key: null, value: bytes });
  }
  return { messages, lines, invalid, errors };
};

/** Generated orders, made as they are sent. */
export function* generatedOrders(count: number, encoder: OrderEncoderPort, generator = new OrderGenerator({ seed: Date.now() % 2 ** 31 })): Generator<OutboundMessage> {
  for (let i = 0; i < count; i++) {
    const order = createOrder(generator.next());
    if (!order.ok) throw new Error(`The generator made an invalid order: ${order.error.message}`);
    yield { key: order.value.id, value: encoder.encode(order.value) };
  }
}

/**
 * Publishes messages keyed by order id, paced to a rate if asked. Every message is counted as
 * delivered or failed, so the summary is an honest account.
 */
export const produce = async (bus: MessageBusPort, messages: Iterable<OutboundMessage>, options: ProduceOptions): Promise<ProduceSummary> => {
  const summary: ProduceSummary = { sent: 0, delivered: 0, failed: 0, invalid: 0, elapsedMs: 0, errors: [] };
  const started = Date.now();
  const pending = new Set<Promise<void>>();

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
        if (summary.errors.length < MAX_ERRORS_KEPT) {
          summary.errors.push(`delivery of ${chunk.length} messages failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    );
    const tracked = publishing.finally(() => pending.delete(tracked));
    pending.add(tracked);
    if (pending.size >= MAX_PENDING) await Promise.race(pending);
    options.onProgress?.(summary);
  };

  let chunk: OutboundMessage[] = [];
  for (const message of messages) {
    chunk.push(message);
    if (chunk.length >= chunkSize(options.rate)) {
      const full = chunk;
      chunk = [];
      await send(full);
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

export const openInput = (file: string, stdin: Readable): Readable => (file === '-' ? stdin : createReadStream(file));

/** What a checked input holds, when it is not published: a dry run, or a refusal because of invalid lines. */
export const formatCheckedInput = (input: CheckedInput, topic: string, outcome: 'dry-run' | 'refused'): string =>
  [
    `orderflow produce → ${topic} (${outcome === 'dry-run' ? 'dry run: nothing published' : 'refused: nothing published'})`,
    `  lines      ${input.lines.toLocaleString('en-US')}`,
    `  valid      ${(input.lines - input.invalid).toLocaleString('en-US')}`,
    `  invalid    ${input.invalid.toLocaleString('en-US')}${input.invalid > input.errors.length ? ` (the first ${input.errors.length} below)` : ''}`,
    ...input.errors.map((e) => `  ! ${e}`),
    ...(outcome === 'refused' ? ['  Fix the lines above and run again, or send them as they are with --raw (they will be dead-lettered).'] : []),
    '',
  ].join('\n');

export const formatProduceSummary = (s: ProduceSummary, topic: string): string => {
  const seconds = s.elapsedMs / 1000;
  return [
    `orderflow produce → ${topic}`,
    `  sent       ${s.sent.toLocaleString('en-US')}`,
    `  delivered  ${s.delivered.toLocaleString('en-US')} (acks=all)`,
    `  failed     ${s.failed.toLocaleString('en-US')}`,
    ...(s.invalid > 0 ? [`  invalid    ${s.invalid.toLocaleString('en-US')} NDJSON lines were not valid orders (sent as they are: --raw)`] : []),
    `  elapsed    ${seconds.toFixed(2)} s (${Math.round(s.delivered / Math.max(seconds, 0.001)).toLocaleString('en-US')} orders/s)`,
    ...s.errors.map((e) => `  ! ${e}`),
    '',
  ].join('\n');
};
