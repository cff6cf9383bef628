import { createKafka } from '../../../src/adapters/kafka/kafka-connection';
import { LoggerSpy } from '../../support/logger-spy';

describe('createKafka logging', () => {
  const concurrent = 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

  it("logs kafkajs's routine transactional lines at debug, and its other errors and warnings as they are", () => {
    const logger = new LoggerSpy();
    const kafkajs = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'test' }, logger, { logLevel: 'warn' }).logger();

    // What a hand-off right after another logs (tulios/kafkajs#1315), and the bounded-retries warning.
    kafkajs.error('Response AddPartitionsToTxn(key: 24, version: 1)', { error: concurrent });
    kafkajs.error(`Failed to send messages: ${concurrent}`, { retryCount: 0 });
    kafkajs.warn('Limiting retries for the idempotent producer may invalidate EoS guarantees', {});
    kafkajs.error('Response Produce(key: 0, version: 7)', { error: 'The request included a message larger than the max message size' });
    kafkajs.warn('Connection timeout', {});

    expect(logger.lines.map(({ level, message }) => [level, message])).toEqual([
      ['debug', 'Response AddPartitionsToTxn(key: 24, version: 1)'],
      ['debug', `Failed to send messages: ${concurrent}`],
      ['debug', 'Limiting retries for the idempotent producer may invalidate EoS guarantees'],
      ['error', 'Response Produce(key: 0, version: 7)'],
      ['warn', 'Connection timeout'],
    ]);
  });
});
