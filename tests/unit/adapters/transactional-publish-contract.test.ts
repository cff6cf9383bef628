import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { describeTransactionalPublishContract } from '../../contract/transactional-publish.contract';

let topics = 0;

describeTransactionalPublishContract('InMemoryMessageBus', async () => {
  const bus = new InMemoryMessageBus();
  return {
    bus,
    anotherBus: async () => bus.newClient(),
    createTopic: async (partitions, options) => {
      const topic = `tx-contract-${++topics}`;
      bus.createTopic(topic, partitions, options);
      return topic;
    },
    missingTopic: () => `tx-contract-missing-${++topics}`,
    topicExists: async (topic) => bus.hasTopic(topic),
    committed: async (groupId, topic) => bus.committed(groupId, topic),
    patienceMs: 2_000,
    cleanup: async () => undefined,
  };
});
