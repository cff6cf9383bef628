import { randomUUID } from 'node:crypto';
import { DLQ_HEADERS } from '../../adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../adapters/kafka/kafka-message-bus';
import { Headers, InboundMessage, MessageBusPort } from '../../application/ports/message-bus.port';
import { AppConfig } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';

/** Added to every replayed message: `<dead-letter topic>/<partition>/<offset>` it was replayed from. */
export const REPLAY_SOURCE_HEADER = 'orderflow.replay.source';

export interface ReplayOptions {
  /** The dead-letter topic. */
  readonly from: string;
  readonly to: string;
  /** The group that remembers how far earlier replays got. */
  readonly groupId: string;
  /** Only dead letters with these codes; all when absent. */
  readonly codes?: readonly string[];
  readonly dryRun: boolean;
}

export interface ReplaySummary {
  readonly read: number;
  readonly replayed: number;
  /** Replayed (or, in a dry run, selected) dead letters by code. */
  readonly byCode: Readonly<Record<string, number>>;
}

/**
 * Publishes dead letters back, once their cause is fixed (adr/0009): the original key, value,
 * timestamp and headers, without the error headers the dead-letter sink added, and with where it
 * was replayed from. Runs until `caughtUp` says the group has read the whole dead-letter topic;
 * the group's commits make the next run continue where this one stopped. A dry run only counts.
 */
export const replayDeadLetters = async (
  bus: MessageBusPort,
  caughtUp: (groupId: string) => Promise<boolean>,
  options: ReplayOptions,
): Promise<ReplaySummary> => {
  let read = 0;
  const byCode = new Map<string, number>();
  const subscription = await bus.subscribe({
    topic: options.from,
    groupId: options.groupId,
    handler: async (delivery) => {
      const { message } = delivery;
      read++;
      const code = message.headers[DLQ_HEADERS.code] ?? '(no code)';
      if (options.codes === undefined || options.codes.includes(code)) {
        // Awaited before the ack: a replay that did not reach the topic is not committed either.
        if (!options.dryRun) await bus.publish(options.to, [replayOf(message)]);
        byCode.set(code, (byCode.get(code) ?? 0) + 1);
      }
      delivery.ack();
    },
  });
  while (!(await caughtUp(options.groupId))) await new Promise((resolve) => setTimeout(resolve, 250));
  await subscription.stop();
  return { read, replayed: [...byCode.values()].reduce((sum, n) => sum + n, 0), byCode: Object.fromEntries(byCode) };
};

const ERROR_HEADER = /^(__connect\.errors\.|orderflow\.errors\.)/;

const replayOf = (deadLetter: InboundMessage) => ({
  key: deadLetter.key,
  value: deadLetter.value ?? Buffer.alloc(0),
  timestamp: deadLetter.timestamp,
  headers: {
    ...Object.fromEntries(Object.entries(deadLetter.headers).filter(([name]) => !ERROR_HEADER.test(name))),
    [REPLAY_SOURCE_HEADER]: `${deadLetter.topic}/${deadLetter.partition}/${deadLetter.offset}`,
  } satisfies Headers,
});

/** `orderflow replay-dlq` on the configured Kafka: DLQ_TOPIC to ORDERS_TOPIC (or `to`). */
export const runReplay = async (
  config: AppConfig,
  options: { codes?: readonly string[] | undefined; to?: string | undefined; dryRun: boolean },
): Promise<ReplaySummary> => {
  const container = buildContainer({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const bus = container.get(TOKENS.MessageBus);
  const admin = container.get(TOKENS.TopicAdmin);
  try {
    return await replayDeadLetters(bus, async (groupId) => (await admin.consumerLag(groupId, config.dlqTopic)).total === 0, {
      from: config.dlqTopic,
      to: options.to ?? config.ordersTopic,
      // A dry run reads with a group of its own, so that it commits nothing a real replay would skip.
      groupId: options.dryRun ? `${config.consumerGroup}.dlq-dry-run-${randomUUID().slice(0, 8)}` : `${config.consumerGroup}.dlq-replay`,
      ...(options.codes === undefined ? {} : { codes: options.codes }),
      dryRun: options.dryRun,
    });
  } finally {
    if (bus instanceof KafkaMessageBus) await bus.close();
    await admin.close();
  }
};

export const formatReplaySummary = (summary: ReplaySummary, options: { from: string; to: string; dryRun: boolean }): string =>
  [
    `orderflow replay-dlq ${options.from} → ${options.to}${options.dryRun ? ' (dry run: nothing published)' : ''}`,
    `  read      ${summary.read.toLocaleString('en-US')} dead letters`,
    `  ${options.dryRun ? 'selected' : 'replayed'}  ${summary.replayed.toLocaleString('en-US')}`,
    ...Object.entries(summary.byCode)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `    ${code.padEnd(28)} ${n.toLocaleString('en-US')}`),
    '',
  ].join('\n');
