import { CosOrderArchive } from '../src/adapters/cos/cos-order-archive';
import { createKafka } from '../src/adapters/kafka/kafka-connection';
import { toInboundMessage } from '../src/adapters/kafka/kafka-subscription';
import { PerOrderArchiveStage } from '../src/application/stages/per-order-archive.stage';
import { AppConfig, EMBEDDED_DEFAULTS } from '../src/main/config';
import { buildContainer } from '../src/main/container';
import { TOKENS } from '../src/main/di-tokens';
import { archiveOne, finish, jobOf, peakRssMb } from './child';

export interface SeedDesignJob {
  readonly kafkaBrokers: readonly string[];
  readonly cos: NonNullable<AppConfig['cos']>;
  readonly topic: string;
  readonly groupId: string;
  readonly prefix: string;
  /** Orders to process; the rate is measured on them. */
  readonly sample: number;
}

export interface SeedDesignResult {
  readonly processed: number;
  readonly elapsedS: number;
  readonly ordersPerS: number;
  /** Mean time per message in the awaited archive write, and in the awaited offset commit. */
  readonly writeMs: number;
  readonly commitMs: number;
  readonly peakRssMb: number;
}

/**
 * B4: the seed's consumer loop around orderflow's own code. kafkajs `eachMessage` hands over one
 * message at a time; each goes through the same ProcessOrders use case (decode, score, enrich, the
 * same CosOrderArchive with its keep-alive agent), its PUT is awaited, and its offset is committed
 * before the next message is looked at. Only the loop differs from B3, so the ratio of the two
 * measures the design: concurrency and commit cadence.
 */
const run = async (job: SeedDesignJob): Promise<SeedDesignResult> => {
  const config: AppConfig = { ...EMBEDDED_DEFAULTS, bus: 'memory', archive: 'cos', cos: job.cos, archivePrefix: job.prefix, logLevel: 'warn' };
  const container = buildContainer(config);
  const stage = container.get(TOKENS.ArchiveStage) as PerOrderArchiveStage;
  const consumer = createKafka({ brokers: job.kafkaBrokers, clientId: 'orderflow-bench-seed' }).consumer({ groupId: job.groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: job.topic, fromBeginning: true });

  let processed = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let writeMs = 0;
  let commitMs = 0;
  const sampled = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (processed >= job.sample) return;
        const startedAt = performance.now();
        firstAt ??= startedAt;
        await archiveOne(stage, toInboundMessage(topic, partition, message));
        const writtenAt = performance.now();
        await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        lastAt = performance.now();
        writeMs += writtenAt - startedAt;
        commitMs += lastAt - writtenAt;
        if (++processed === job.sample) resolve();
      },
    });
  });
  await sampled;
  const elapsedS = (lastAt - firstAt!) / 1000;
  const result = { processed, elapsedS, ordersPerS: processed / elapsedS, writeMs: writeMs / processed, commitMs: commitMs / processed, peakRssMb: peakRssMb() };
  await consumer.disconnect();
  (container.get(TOKENS.Archive) as CosOrderArchive).close();
  return result;
};

run(jobOf<SeedDesignJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench seed design: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
