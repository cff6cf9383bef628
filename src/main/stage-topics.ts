import { Container } from 'inversify';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from '../adapters/kafka/kafka-dead-letter-sink';
import { TopicSpec } from '../application/ports/topic-setup.port';
import { DEFAULT_TOPIC_PARTITIONS, eventCatalog } from '../application/stages/lifecycle-topics';
import { inputTopicsOf, outputTopicsOf, Stage } from '../application/stages/stage';
import { AppConfig } from './config';
import { deadLetterTopicFor } from './container';
import { TOKENS } from './di-tokens';

/**
 * The topics a set of stages needs, and their creation: one definition for every command that
 * runs stages (`consume`, `run`, the demo), so that none creates a topic another would size or
 * keep differently.
 */

/** Room for keys and headers, the dead-letter reason headers included (each at most 1,000 characters). */
const TOPIC_HEADROOM_BYTES = 64 * 1024;

/**
 * The max.message.bytes of the topics orderflow creates: an order up to ORDERFLOW_MAX_MESSAGE_BYTES
 * with its key and headers, and on a dead-letter topic the same plus the reason headers (adr/0009);
 * never below Kafka's default (1 MiB + 12).
 */
export const topicMaxMessageBytes = (maxMessageBytes: number): number => Math.max(KAFKA_DEFAULT_MAX_MESSAGE_BYTES, maxMessageBytes + TOPIC_HEADROOM_BYTES);

/**
 * Every topic the stages read or write, the DLQs of what they read, and the topics the command
 * writes itself (`alsoWrites`: the API's orders and status updates): sized and kept as the event
 * catalog says (a topic the catalog does not know, such as a renamed DLQ_TOPIC, gets the
 * partitions and the broker's retention).
 */
export const stageTopicSpecs = (config: AppConfig, stages: readonly Stage[], container: Container, alsoWrites: readonly string[] = []): TopicSpec[] => {
  const partitions = config.kafka?.topicPartitions ?? DEFAULT_TOPIC_PARTITIONS;
  const catalog = new Map(eventCatalog(container.get(TOKENS.LifecycleTopics), { partitions }).map((entry) => [entry.topic, entry]));
  const topics = new Set<string>();
  for (const stage of stages) {
    for (const topic of inputTopicsOf(stage)) topics.add(topic).add(deadLetterTopicFor(config, topic));
    for (const topic of outputTopicsOf(stage)) topics.add(topic);
  }
  for (const topic of alsoWrites) topics.add(topic);
  const maxMessageBytes = topicMaxMessageBytes(config.maxMessageBytes);
  return [...topics].map((topic) => {
    const entry = catalog.get(topic);
    return {
      topic,
      partitions: entry?.partitions ?? partitions,
      maxMessageBytes,
      ...(entry === undefined ? {} : { retentionMs: entry.retentionMs, cleanupPolicy: entry.cleanupPolicy }),
    };
  });
};

/**
 * Creates the stages' missing topics when KAFKA_CREATE_TOPICS allows it, else checks that they
 * exist. Returns false, after logging why, when the stages cannot run.
 */
export const ensureStageTopics = async (container: Container, config: AppConfig, stages: readonly Stage[], alsoWrites: readonly string[] = []): Promise<boolean> => {
  const logger = container.get(TOKENS.Logger);
  const admin = container.get(TOKENS.TopicSetup);
  const specs = stageTopicSpecs(config, stages, container, alsoWrites);
  try {
    if (config.kafka?.createTopics !== false) {
      const result = await admin.ensureTopics(specs);
      if (result.created.length > 0) logger.info({ created: result.created }, 'Created topics');
      return true;
    }
    const existing = new Set(await admin.listTopics());
    const missing = specs.map((spec) => spec.topic).filter((topic) => !existing.has(topic));
    if (missing.length === 0) return true;
    logger.error({ missing }, 'Topics are missing and KAFKA_CREATE_TOPICS=false: create them (docs/events.md lists them), or allow orderflow to');
    return false;
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'Could not prepare the Kafka topics');
    return false;
  }
};
