import { inspect } from 'node:util';
import { KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { explainKafkaError } from '../../../src/adapters/kafka/kafka-errors';

/** A protocol error as kafkajs builds it from a broker's error code. */
const protocolError = (type: string, code: number, message: string): KafkaJSProtocolError =>
  new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable: false }));

/**
 * Explanations for failures the local broker cannot produce (it has no authorizer), from
 * kafkajs's own error classes nested as kafkajs nests them. No broker is used.
 */
describe('explainKafkaError', () => {
  it('names a refused topic creation as an authorization failure, with the protocol error', () => {
    const error = new KafkaJSAggregateError('Topic creation errors', [
      protocolError('TOPIC_AUTHORIZATION_FAILED', 29, 'Not authorized to access topics: [Topic authorization failed]'),
    ]);
    const explained = explainKafkaError(error, 'ensuring topics orders.v1');
    expect(explained.reason).toBe('authorization');
    expect(explained.message).toMatch(/^Kafka: ensuring topics orders\.v1 failed: not authorized \(TOPIC_AUTHORIZATION_FAILED\)/);
    expect(explained.cause).toBe(error);
  });

  it('sees through the retries kafkajs wraps around a cluster authorization failure', () => {
    const cause = protocolError('CLUSTER_AUTHORIZATION_FAILED', 31, 'Cluster authorization failed');
    const error = new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1_000 });
    expect(explainKafkaError(error, 'ensuring topics orders.v1')).toMatchObject({
      reason: 'authorization',
      message: expect.stringContaining('CLUSTER_AUTHORIZATION_FAILED'),
    });
  });

  it('keeps a secret out of the message and the cause even if an error carried it', () => {
    const error = new KafkaJSConnectionError('Connection error: handshake with token:s3cret-api-key failed', { broker: 'b-0:9093' });
    const explained = explainKafkaError(error, 'connecting the producer', { secrets: ['s3cret-api-key'] });
    expect(explained.message).toContain('token:[redacted]');
    expect(explained.message).toContain('b-0:9093');
    expect(inspect(explained, { depth: 10 })).not.toContain('s3cret-api-key');
  });
});
