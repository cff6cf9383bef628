import { DeadLetter, DeadLetterPort } from '../../application/ports/dead-letter.port';
import { MessageBusPort, textHeader } from '../../application/ports/message-bus.port';

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
} as const;

/** Header values are bounded so that a hostile payload cannot bloat the dead-letter record. */
const MAX_HEADER_CHARS = 1_000;

/**
 * Dead letters as Kafka records: the original key and value untouched, the reason in Kafka
 * Connect-style headers. It publishes through the message bus, so the same sink serves the
 * Kafka bus in production and the in-memory bus in the demo and the tests.
 */
export class KafkaDeadLetterSink implements DeadLetterPort {
  constructor(
    private readonly bus: MessageBusPort,
    private readonly topic: string,
  ) {}

  async send({ original, rejection }: DeadLetter): Promise<void> {
    await this.bus.publish(this.topic, [
      {
        key: original.key,
        // An empty value stays empty: a tombstone in the DLQ would read as "delete".
        value: original.value ?? Buffer.alloc(0),
        // The original headers first, byte for byte and repeated names kept, then the reason.
        headers: [
          ...original.headers,
          textHeader(DLQ_HEADERS.topic, original.topic),
          textHeader(DLQ_HEADERS.partition, String(original.partition)),
          textHeader(DLQ_HEADERS.offset, original.offset),
          textHeader(DLQ_HEADERS.stage, rejection.stage),
          textHeader(DLQ_HEADERS.exceptionClass, rejection.code),
          textHeader(DLQ_HEADERS.exceptionMessage, rejection.message.slice(0, MAX_HEADER_CHARS)),
          textHeader(DLQ_HEADERS.code, rejection.code),
        ],
        timestamp: original.timestamp,
      },
    ]);
  }
}
