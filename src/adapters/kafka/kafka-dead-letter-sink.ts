import { DeadLetter, DeadLetterPort } from '../../application/ports/dead-letter.port';
import { LoggerPort } from '../../application/ports/logger.port';
import { MessageBusPort, textHeader } from '../../application/ports/message-bus.port';
import { fitDeadLetterValue, valueBudget } from './dead-letter-fit';
import { isRecordTooLarge } from './kafka-errors';

/** The header names Kafka Connect's dead-letter queue uses, so existing tooling can read ours. */
export const DLQ_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  stage: '__connect.errors.stage',
  exceptionClass: '__connect.errors.exception.class.name',
  exceptionMessage: '__connect.errors.exception.message',
  /** Ours: the stable rejection code, e.g. ORDER.UNKNOWN_CHANNEL, for filtering and replay. */
  code: 'orderflow.errors.code',
  /** Ours: the name of the stage that rejected it (archive, validation, payment…). */
  stageName: 'orderflow.stage',
} as const;

/** Header values are bounded so that a hostile payload cannot bloat the dead-letter record. */
const MAX_HEADER_CHARS = 1_000;

/** Kafka's default max.message.bytes (1 MiB + 12): the limit assumed when the topic's own cannot be read. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** Sends after a refusal as too large, each with half the value of the one before, down to none. */
const SHRINKING_RESENDS = 8;

export interface KafkaDeadLetterSinkOptions {
  /**
   * The dead-letter topic's max.message.bytes, asked once (Kafka: describeConfigs). Absent: no
   * limit is known (the in-memory bus), and values are cut only after the bus refuses one.
   * A lookup that fails falls back to KAFKA_DEFAULT_MAX_MESSAGE_BYTES.
   */
  readonly maxRecordBytes?: () => Promise<number | undefined>;
  readonly logger?: LoggerPort;
}

/**
 * Dead letters as Kafka records: the original key and headers, the value untouched whenever the
 * dead-letter topic can take it, and the reason in Kafka Connect-style headers. It publishes
 * through the message bus, so the same sink serves the Kafka bus in production and the in-memory
 * bus in the demo and the tests.
 *
 * A value too large for the dead-letter topic is cut to fit, with its size and SHA-256 in
 * headers (see fitDeadLetterValue, adr/0009): a record the broker refuses for good must not be
 * retried for ever. Should the broker still refuse one as too large (a limit read wrong, other
 * records in the same batch), it is sent again at once with half the value, down to none.
 */
export class KafkaDeadLetterSink implements DeadLetterPort {
  private limit: Promise<number | undefined> | undefined;

  constructor(
    private readonly bus: MessageBusPort,
    private readonly topic: string,
    private readonly options: KafkaDeadLetterSinkOptions = {},
  ) {}

  async send({ original, rejection, stage }: DeadLetter): Promise<void> {
    // The original headers first, byte for byte and repeated names kept, then the reason.
    const headers = [
      ...original.headers,
      textHeader(DLQ_HEADERS.topic, original.topic),
      textHeader(DLQ_HEADERS.partition, String(original.partition)),
      textHeader(DLQ_HEADERS.offset, original.offset),
      textHeader(DLQ_HEADERS.stage, rejection.stage),
      textHeader(DLQ_HEADERS.exceptionClass, rejection.exceptionClass ?? rejection.code),
      textHeader(DLQ_HEADERS.exceptionMessage, rejection.message.slice(0, MAX_HEADER_CHARS)),
      textHeader(DLQ_HEADERS.code, rejection.code),
      ...(stage === undefined ? [] : [textHeader(DLQ_HEADERS.stageName, stage)]),
    ];
    // An empty value stays empty: a tombstone in the DLQ would read as "delete".
    const value = original.value ?? Buffer.alloc(0);
    const limit = await this.maxRecordBytes();
    let budget = limit === undefined ? value.length : valueBudget(limit, original.key, headers);
    for (let resend = 0; ; resend++) {
      const fitted = fitDeadLetterValue(value, budget);
      try {
        await this.bus.publish(this.topic, [
          { key: original.key, value: fitted.value, headers: [...headers, ...fitted.headers], timestamp: original.timestamp },
        ]);
        return;
      } catch (error) {
        if (!isRecordTooLarge(error) || resend >= SHRINKING_RESENDS || fitted.value.length === 0) throw error;
        budget = resend === SHRINKING_RESENDS - 1 ? 0 : Math.floor(fitted.value.length / 2);
        this.options.logger?.warn(
          { topic: this.topic, offset: original.offset, sentBytes: fitted.value.length, nextBytes: budget },
          'The dead-letter topic refused a record as too large: sending it again with less of its value',
        );
      }
    }
  }

  private maxRecordBytes(): Promise<number | undefined> {
    const lookup = this.options.maxRecordBytes;
    if (lookup === undefined) return Promise.resolve(undefined);
    this.limit ??= lookup().catch((error: unknown) => {
      this.options.logger?.warn(
        { topic: this.topic, err: error instanceof Error ? error.message : String(error), assumed: KAFKA_DEFAULT_MAX_MESSAGE_BYTES },
        "Could not read the dead-letter topic's max.message.bytes: assuming Kafka's default",
      );
      return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    });
    return this.limit;
  }
}
