import { BatchHandler, DeliveryBatch, InboundMessage, MessageBusPort, Subscription } from '../src/application/ports/message-bus.port';
import { Archivable, PerOrderArchiveStage } from '../src/application/stages/per-order-archive.stage';
import { EMBEDDED_DEFAULTS } from '../src/main/config';
import { buildContainer } from '../src/main/container';
import { TOKENS } from '../src/main/di-tokens';
import { finish, jobOf, peakRssMb } from './child';
import { OrderFactory } from './load';

export interface CoreJob {
  readonly orders: number;
  /** The first round warms the JIT up and is not counted. */
  readonly rounds: number;
  /** Messages per partition batch handed to the runner in one call, as a subscription with this maxInFlight would. */
  readonly inFlight: number;
}

export interface CoreResult {
  readonly roundsOrdersPerS: readonly number[];
  /** Median of the counted rounds. */
  readonly ordersPerS: number;
  /**
   * The figure as CPU time (process.cpuUsage, GC threads included) per order: what B1's ratio is
   * taken from. Wall time on these shared hosts also counts the time the process waited for a core,
   * which swung the same code's ratio between 1.8× and 8.4× in one session; CPU time between 4.0×
   * and 4.3×. Median of the counted rounds.
   */
  readonly cpuUsPerOrder: number;
  readonly roundsCpuUsPerOrder: readonly number[];
  /**
   * B1's limit, measured in the same process between the core's rounds: `JSON.parse` of each
   * message's UTF-8 text and `JSON.stringify` of the result, in a plain loop. Median of the
   * counted rounds, like the figure.
   */
  readonly jsonRoundsOrdersPerS: readonly number[];
  readonly jsonOrdersPerS: number;
  /** The limit as CPU time per message, like cpuUsPerOrder. */
  readonly jsonCpuUsPerMessage: number;
  readonly jsonRoundsCpuUsPerMessage: readonly number[];
  /**
   * Where the figure's CPU µs per order go, from rounds of the core's own steps run alone on the same
   * messages, alternating with the others (medians): the order codec (UTF-8, JSON.parse, the io-ts
   * check, the domain's constructor), the whole evaluation before the write (the codec, event
   * time, risk, enrichment, the Hive key), and the record's serialisation (JSON.stringify into a
   * Buffer). What the figure spends beyond the evaluation and the serialisation is the runner, the
   * write to the in-memory archive and the bookkeeping after it (metrics, statistics, duplicates).
   */
  readonly steps: { readonly decodeUs: number; readonly evaluateUs: number; readonly serialiseUs: number };
  readonly peakRssMb: number;
}

/**
 * The bus as the runner sees it, without Kafka: the bench hands the captured batch handler
 * partition batches itself. The archive stage publishes nothing, so publishing is a bench bug.
 */
class BatchFeed implements MessageBusPort {
  handler: BatchHandler | undefined;

  async subscribe(options: { batchHandler?: BatchHandler }): Promise<Subscription> {
    if (options.batchHandler === undefined) throw new Error('B1 expects the runner to subscribe with a batch handler');
    this.handler = options.batchHandler;
    return { stop: async () => undefined, done: new Promise<void>(() => undefined) };
  }

  publish(): Promise<void> {
    throw new Error('The archive stage does not publish');
  }

  publishTransactionally(): Promise<void> {
    throw new Error('The archive stage does not publish');
  }
}

/**
 * B1: the core on one core, no I/O. Pre-encoded order buffers go through the archive stage on the
 * StageRunner exactly as `consume` wires it (size check, io-ts, event time, risk scoring,
 * enrichment, Hive key, JSON, Prometheus metrics, statistics with Top-K, throughput window and
 * HDR latency) into the in-memory archive, handed over as partition batches the way the bus does.
 */
const run = async (job: CoreJob): Promise<CoreResult> => {
  const factory = new OrderFactory('core');
  const now = Date.now();
  const messages: InboundMessage[] = Array.from({ length: job.orders }, (_, i) => {
    const { key, value } = factory.next(now);
    return { topic: 'orders.v1', partition: i % 6, offset: String(i), key: Buffer.from(key as string), value, headers: [], timestamp: now };
  });
  let acked = 0;
  const batchOf = (from: number, to: number): DeliveryBatch => {
    let through = -1;
    return {
      topic: 'orders.v1',
      partition: 0,
      generation: 1,
      messages: messages.slice(from, to),
      ackThrough: (index) => {
        if (index > through) acked += index - through;
        through = Math.max(through, index);
      },
      nack: (index, reason) => {
        throw new Error(`The bench's order at ${from + index} was nacked: ${reason.message}`);
      },
    };
  };

  const rates: number[] = [];
  const cpuUs: number[] = [];
  const jsonRates: number[] = [];
  const jsonCpuUs: number[] = [];
  const steps = { decode: [] as number[], evaluate: [] as number[], serialise: [] as number[] };
  let sink = 0;
  /**
   * Every measured pass starts from a collected heap (when run with --expose-gc, as run.ts does):
   * the garbage of one pass, above all the in-memory archive a core round leaves, is then not
   * billed to the pass after it. Each pass still pays for its own garbage.
   */
  const collected = (): void => (globalThis as { gc?: () => void }).gc?.();
  /** CPU µs per message of one pass of `step` over the messages. */
  const perMessageUs = (step: (message: InboundMessage) => number): number => {
    collected();
    const started = cpuNowUs();
    for (const message of messages) sink += step(message);
    return (cpuNowUs() - started) / messages.length;
  };
  const stepsContainer = buildContainer({ ...EMBEDDED_DEFAULTS, archive: 'memory', logLevel: 'silent' });
  const decoder = stepsContainer.get(TOKENS.OrderDecoder);
  const stage = stepsContainer.get(TOKENS.ArchiveStage) as PerOrderArchiveStage;
  const evaluated = (message: InboundMessage): Archivable => {
    const result = stage.inputs[0]!.codec.decode(message);
    if (result instanceof Promise || !result.ok) throw new Error('The bench could not evaluate its own order');
    return result.value;
  };
  const records = messages.map((message) => evaluated(message).record);
  for (let round = 0; round < job.rounds; round++) {
    // The limit's round first, alternating with the core's, so that both see the same machine.
    collected();
    const jsonStarted = performance.now();
    const jsonCpuStarted = cpuNowUs();
    for (const message of messages) sink += JSON.stringify(JSON.parse(message.value!.toString('utf8'))).length;
    jsonCpuUs.push((cpuNowUs() - jsonCpuStarted) / messages.length);
    jsonRates.push(messages.length / ((performance.now() - jsonStarted) / 1000));
    steps.decode.push(perMessageUs((message) => (decoder.decode(message.value!).ok ? 1 : 0)));
    steps.evaluate.push(perMessageUs((message) => evaluated(message).key.length));
    let index = 0;
    steps.serialise.push(perMessageUs(() => Buffer.from(JSON.stringify(records[index++ % records.length])).length));

    // A fresh container per round: the in-memory archive keeps every object, and a round must
    // not pay for the garbage of the last one.
    const feed = new BatchFeed();
    const container = buildContainer({ ...EMBEDDED_DEFAULTS, archive: 'memory', logLevel: 'silent' }, (c) =>
      c.rebindSync(TOKENS.MessageBus).toConstantValue(feed),
    );
    const pipeline = container.get(TOKENS.ArchivePipeline);
    await pipeline.start();
    const handle = feed.handler!;
    // The batches are cut before the clock starts, as the bus has them ready when it calls.
    const batches: DeliveryBatch[] = [];
    for (let first = 0; first < messages.length; first += job.inFlight) batches.push(batchOf(first, Math.min(messages.length, first + job.inFlight)));
    acked = 0;
    collected();
    const started = performance.now();
    const cpuStarted = cpuNowUs();
    for (const batch of batches) await handle(batch);
    const cpuSpent = cpuNowUs() - cpuStarted;
    const seconds = (performance.now() - started) / 1000;
    await pipeline.stop(1_000);
    if (acked !== messages.length) throw new Error(`Only ${acked} of ${messages.length} orders were acked`);
    rates.push(acked / seconds);
    cpuUs.push(cpuSpent / acked);
  }
  // The lengths are used, so that the JIT cannot drop the limit's loop as dead code.
  if (sink === 0) throw new Error('The JSON loop produced nothing');
  return {
    roundsOrdersPerS: rates,
    ordersPerS: median(rates.slice(1)),
    roundsCpuUsPerOrder: cpuUs,
    cpuUsPerOrder: median(cpuUs.slice(1)),
    jsonRoundsOrdersPerS: jsonRates,
    jsonOrdersPerS: median(jsonRates.slice(1)),
    jsonRoundsCpuUsPerMessage: jsonCpuUs,
    jsonCpuUsPerMessage: median(jsonCpuUs.slice(1)),
    steps: {
      decodeUs: median(steps.decode.slice(1)),
      evaluateUs: median(steps.evaluate.slice(1)),
      serialiseUs: median(steps.serialise.slice(1)),
    },
    peakRssMb: peakRssMb(),
  };
};

/** This process's CPU time so far, user and system, every thread (the GC's helpers included), in µs. */
const cpuNowUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
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
