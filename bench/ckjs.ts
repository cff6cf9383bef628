/**
 * The part of @confluentinc/kafka-javascript's KafkaJS-compatible API that the bench uses, typed
 * here because the package is not a dependency (it is installed on demand into a cache outside
 * the clone, bench/ckjs-install.ts) and so its own .d.ts files are not on tsc's path. Its config
 * differs from kafkajs's in shape: the KafkaJS options go in a `kafkaJS` block, librdkafka
 * properties (e.g. `linger.ms`) beside it.
 */
export interface CkjsMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface CkjsConsumer {
  connect(): Promise<void>;
  subscribe(subscription: { topics: string[] }): Promise<void>;
  run(
    handlers:
      | { eachBatch: (payload: { batch: { messages: readonly CkjsMessage[] } }) => Promise<void> }
      | { eachMessage: (payload: { message: CkjsMessage }) => Promise<void> },
  ): Promise<void>;
  disconnect(): Promise<void>;
}

export interface CkjsProducer {
  connect(): Promise<void>;
  send(record: { topic: string; messages: ReadonlyArray<{ key: string | Buffer | null; value: Buffer }> }): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** librdkafka properties, beside the `kafkaJS` block. */
type WithRdKafkaProperties<T> = T & { readonly [property: string]: unknown };

export interface CkjsKafka {
  consumer(config: WithRdKafkaProperties<{ kafkaJS: { groupId: string; fromBeginning?: boolean; maxBytesPerPartition?: number } }>): CkjsConsumer;
  producer(config: WithRdKafkaProperties<{ kafkaJS: { idempotent?: boolean; acks?: number; compression?: string; maxInFlightRequests?: number } }>): CkjsProducer;
}

export interface CkjsKafkaJS {
  readonly Kafka: new (config: { kafkaJS: { brokers: string[]; clientId: string; logLevel?: number } }) => CkjsKafka;
  readonly logLevel: { readonly NOTHING: number; readonly ERROR: number; readonly WARN: number; readonly INFO: number };
}

/** The KafkaJS-compatible API of the package installed at `modulePath`. */
export const loadCkjs = (modulePath: string): CkjsKafkaJS => {
  const loaded = require(modulePath) as { KafkaJS?: CkjsKafkaJS };
  if (loaded.KafkaJS === undefined) throw new Error(`${modulePath} has no KafkaJS export: is it @confluentinc/kafka-javascript?`);
  return loaded.KafkaJS;
};
