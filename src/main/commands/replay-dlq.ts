import { randomUUID } from 'node:crypto';
import { TRUNCATION_HEADERS } from '../../adapters/kafka/dead-letter-fit';
import { DLQ_HEADERS } from '../../adapters/kafka/kafka-dead-letter-sink';
import { headerText, InboundMessage, MessageBusPort, OutboundMessage, textHeader } from '../../application/ports/message-bus.port';
import { AppConfig } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';

/** Added to every replayed message: `<dead-letter topic>/<partition>/<offset>` it was replayed from. */
export const REPLAY_SOURCE_HEADER = 'orderflow.replay.source';

/**
 * Set to "true" by the dead-letter sink on a dead letter whose value was cut to fit the
 * dead-letter topic: replaying it would publish a different, broken message.
 */
export const TRUNCATED_VALUE_HEADER = TRUNCATION_HEADERS.truncated;

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

/** Where the dead-letter topic ends, and how far the replay group has committed, per partition. */
export interface ReplayPositions {
  endOffsets(): Promise<readonly number[]>;
  committed(groupId: string): Promise<readonly number[]>;
}

export interface ReplaySummary {
  readonly read: number;
  readonly replayed: number;
  /** Selected dead letters whose value was truncated (see TRUNCATED_VALUE_HEADER): skipped, and counted here. */
  readonly notReplayable: number;
  /** Replayed (or, in a dry run, selected) dead letters by code. */
  readonly byCode: Readonly<Record<string, number>>;
}

/**
 * Publishes dead letters back, once their cause is fixed (adr/0009): the original key, value,
 * timestamp and headers, without the error headers the dead-letter sink added, and with where it
 * was replayed from. It reads up to the end offsets the dead-letter topic had when it started,
 * and no further: a replayed order that fails again is dead-lettered after that end, and is left
 * for the next run instead of being replayed forever. The group's commits make the next run
 * continue where this one stopped. Dead letters whose value was truncated are not replayed, only
 * counted (notReplayable). A dry run only counts.
 */
export const replayDeadLetters = async (bus: MessageBusPort, positions: ReplayPositions, options: ReplayOptions): Promise<ReplaySummary> => {
  const ends = await positions.endOffsets();
  let read = 0;
  let notReplayable = 0;
  const byCode = new Map<string, number>();
  const subscription = await bus.subscribe({
    topic: options.from,
    groupId: options.groupId,
    handler: async (delivery) => {
      const { message } = delivery;
      // Past the snapshot: left unacked, so the stop below commits nothing beyond the snapshot.
      if (Number(message.offset) >= (ends[message.partition] ?? 0)) return;
      read++;
      const code = headerText(message.headers, DLQ_HEADERS.code) ?? '(no code)';
      if (options.codes === undefined || options.codes.includes(code)) {
        if (headerText(message.headers, TRUNCATED_VALUE_HEADER) === 'true') {
          notReplayable++;
        } else {
          // Awaited before the ack: a replay that did not reach the topic is not committed either.
          if (!options.dryRun) await bus.publish(options.to, [replayOf(message)]);
          byCode.set(code, (byCode.get(code) ?? 0) + 1);
        }
      }
      delivery.ack();
    },
  });
  const reachedSnapshot = async (): Promise<boolean> => {
    const committed = await positions.committed(options.groupId);
    return ends.every((end, partition) => (committed[partition] ?? 0) >= end);
  };
  try {
    while (!(await reachedSnapshot())) await new Promise((resolve) => setTimeout(resolve, 250));
  } finally {
    // Everything up to the snapshot is acked and committed by now; what lies past it stays for the next run.
    await subscription.stop({ deadlineMs: 0 });
  }
  return { read, replayed: [...byCode.values()].reduce((sum, n) => sum + n, 0), notReplayable, byCode: Object.fromEntries(byCode) };
};

const ERROR_HEADER = /^(__connect\.errors\.|orderflow\.errors\.)/;

const replayOf = (deadLetter: InboundMessage): OutboundMessage => ({
  key: deadLetter.key,
  value: deadLetter.value ?? Buffer.alloc(0),
  timestamp: deadLetter.timestamp,
  // The original headers byte for byte, repeated names and their order kept.
  headers: [
    ...deadLetter.headers.filter(({ key }) => !ERROR_HEADER.test(key)),
    textHeader(REPLAY_SOURCE_HEADER, `${deadLetter.topic}/${deadLetter.partition}/${deadLetter.offset}`),
  ],
});

/** `orderflow replay-dlq` on the configured Kafka: DLQ_TOPIC to ORDERS_TOPIC (or `to`). */
export const runReplay = async (
  config: AppConfig,
  options: { codes?: readonly string[] | undefined; to?: string | undefined; dryRun: boolean },
): Promise<ReplaySummary> => {
  const container = buildContainer({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const bus = container.get(TOKENS.MessageBus);
  const admin = container.get(TOKENS.TopicAdmin);
  const resources = container.get(TOKENS.Resources);
  try {
    // Connects the clients first: a wrong address or password fails here, explained, before any group is joined.
    await resources.start();
    const positions: ReplayPositions = {
      endOffsets: () => admin.endOffsets(config.dlqTopic),
      committed: (groupId) => admin.committedPositions(groupId, config.dlqTopic),
    };
    return await replayDeadLetters(bus, positions, {
      from: config.dlqTopic,
      to: options.to ?? config.ordersTopic,
      // A dry run reads with a group of its own, so that it commits nothing a real replay would skip.
      groupId: options.dryRun ? `${config.consumerGroup}.dlq-dry-run-${randomUUID().slice(0, 8)}` : `${config.consumerGroup}.dlq-replay`,
      ...(options.codes === undefined ? {} : { codes: options.codes }),
      dryRun: options.dryRun,
    });
  } finally {
    await resources.close();
  }
};

export const formatReplaySummary = (summary: ReplaySummary, options: { from: string; to: string; dryRun: boolean }): string =>
  [
    `orderflow replay-dlq ${options.from} → ${options.to}${options.dryRun ? ' (dry run: nothing published)' : ''}`,
    `  read      ${summary.read.toLocaleString('en-US')} dead letters`,
    `  ${options.dryRun ? 'selected' : 'replayed'}  ${summary.replayed.toLocaleString('en-US')}`,
    ...(summary.notReplayable === 0
      ? []
      : [`  not replayable  ${summary.notReplayable.toLocaleString('en-US')} (value truncated to fit the dead-letter topic; see adr/0009)`]),
    ...Object.entries(summary.byCode)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `    ${code.padEnd(28)} ${n.toLocaleString('en-US')}`),
    '',
  ].join('\n');
