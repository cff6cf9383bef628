import { InboundMessage } from '../src/application/ports/message-bus.port';
import { PerOrderArchiveStage } from '../src/application/stages/per-order-archive.stage';
import { EMBEDDED_DEFAULTS } from '../src/main/config';
import { buildContainer } from '../src/main/container';
import { TOKENS } from '../src/main/di-tokens';
import { archiveOne, finish, jobOf, peakRssMb } from './child';
import { OrderFactory } from './load';

export interface CoreJob {
  readonly orders: number;
  /** The first round warms the JIT up and is not counted. */
  readonly rounds: number;
  /** Deliveries handed over before awaiting them, as a subscription with this maxInFlight would. */
  readonly inFlight: number;
}

export interface CoreResult {
  readonly roundsOrdersPerS: readonly number[];
  /** Median of the counted rounds. */
  readonly ordersPerS: number;
  /**
   * B1's limit, measured in the same process between the core's rounds: `JSON.parse` of each
   * message's UTF-8 text and `JSON.stringify` of the result, in a plain loop. Median of the
   * counted rounds, like the figure.
   */
  readonly jsonRoundsOrdersPerS: readonly number[];
  readonly jsonOrdersPerS: number;
  readonly peakRssMb: number;
}

/**
 * B1: the core on one core, no I/O. Pre-encoded order buffers go through the ProcessOrders use case
 * exactly as the service wires it (io-ts decode, risk scoring, enrichment, Prometheus metrics,
 * statistics with Top-K, throughput window and HDR latency), into the in-memory archive.
 */
const run = async (job: CoreJob): Promise<CoreResult> => {
  const factory = new OrderFactory('core');
  const now = Date.now();
  const messages: InboundMessage[] = Array.from({ length: job.orders }, (_, i) => {
    const { key, value } = factory.next(now);
    return { topic: 'orders.v1', partition: i % 6, offset: String(i), key: Buffer.from(key as string), value, headers: [], timestamp: now };
  });
  let acked = 0;
  const ack = (): void => void acked++;
  const nack = (reason: Error): void => {
    throw reason;
  };

  const rates: number[] = [];
  const jsonRates: number[] = [];
  let sink = 0;
  for (let round = 0; round < job.rounds; round++) {
    // The limit's round first, alternating with the core's, so that both see the same machine.
    const jsonStarted = performance.now();
    for (const message of messages) sink += JSON.stringify(JSON.parse(message.value!.toString('utf8'))).length;
    jsonRates.push(messages.length / ((performance.now() - jsonStarted) / 1000));

    // A fresh container per round: the in-memory archive keeps every object, and a round must
    // not pay for the garbage of the last one.
    const stage = buildContainer({ ...EMBEDDED_DEFAULTS, archive: 'memory', logLevel: 'silent' }).get(TOKENS.ArchiveStage) as PerOrderArchiveStage;
    acked = 0;
    const started = performance.now();
    for (let first = 0; first < messages.length; first += job.inFlight) {
      const handling: Array<void | Promise<void>> = [];
      for (let i = first; i < Math.min(messages.length, first + job.inFlight); i++) {
        handling.push(archiveOne(stage, messages[i]!).then(ack, nack));
      }
      await Promise.all(handling);
    }
    const seconds = (performance.now() - started) / 1000;
    if (acked !== messages.length) throw new Error(`Only ${acked} of ${messages.length} orders were acked`);
    rates.push(acked / seconds);
  }
  // The lengths are used, so that the JIT cannot drop the limit's loop as dead code.
  if (sink === 0) throw new Error('The JSON loop produced nothing');
  return {
    roundsOrdersPerS: rates,
    ordersPerS: median(rates.slice(1)),
    jsonRoundsOrdersPerS: jsonRates,
    jsonOrdersPerS: median(jsonRates.slice(1)),
    peakRssMb: peakRssMb(),
  };
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

run(jobOf<CoreJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench core: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
