import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  ProducerBatch,
} from 'kafkajs';
import { KafkaBatchingPublisher } from '../../../src/adapters/kafka/kafka-batching-publisher';

/**
 * What kafkajs throws when it cannot reconnect to the cluster, built as its retrier builds it
 * (`new KafkaJSNonRetriableError(e, { cause: e.cause || e })`, a constructor option its types omit).
 */
const brokerUnreachable = (): Error => {
  const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:29092');
  const exhausted = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 1000 });
  return Object.assign(new KafkaJSNonRetriableError(exhausted), { cause: refused });
};

/** A producer that fails each send with the next scripted error, then succeeds; it records what it was sent. */
class ProducerDouble {
  readonly sent: string[][] = [];

  constructor(private readonly failures: Error[]) {}

  async sendBatch(batch: ProducerBatch) {
    this.sent.push(batch.topicMessages!.flatMap((t) => t.messages.map((m) => String(m.value))));
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    return [];
  }
}

const message = (value: string) => ({ key: value, value: Buffer.from(value) });
const quick = { lingerMs: 0, resendBackoff: { baseDelayMs: 1, maxDelayMs: 2 } };

describe('KafkaBatchingPublisher', () => {
  it('sends a batch again, unchanged, while kafkajs cannot reach a broker, and lets nothing overtake it', async () => {
    const producer = new ProducerDouble([brokerUnreachable(), brokerUnreachable(), brokerUnreachable()]);
    const publisher = new KafkaBatchingPublisher(producer, quick);
    const first = publisher.publish('orders', [message('a'), message('b')]);
    // Published while the first batch is being resent: it must wait its turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const second = publisher.publish('orders', [message('c')]);

    await Promise.all([first, second]);
    expect(producer.sent).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b'], ['c']]);
  });

  it('fails a publish at once when the broker refuses it for good', async () => {
    // As kafkajs decodes the broker's error code 10 (its types accept only a message).
    const protocolError = Object.assign(new Error('The request included a message larger than the max message size'), {
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    });
    const refused = new KafkaJSProtocolError(protocolError);
    const tooLarge = Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused });
    const producer = new ProducerDouble([tooLarge]);
    const publisher = new KafkaBatchingPublisher(producer, quick);

    await expect(publisher.publish('orders', [message('a')])).rejects.toBe(tooLarge);
    expect(producer.sent).toHaveLength(1);
  });

  it('answers a publish whose delivery timeout passes while its batch is resent, and stops resending once closed', async () => {
    const producer = new ProducerDouble(Array.from({ length: 1_000 }, brokerUnreachable));
    const publisher = new KafkaBatchingPublisher(producer, { ...quick, deliveryTimeoutMs: 50 });

    await expect(publisher.publish('orders', [message('a')])).rejects.toThrow(/within 50 ms \(delivery timeout\)/);
    await publisher.flush();
    publisher.close();
    const sends = producer.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(producer.sent).toHaveLength(sends);
  });
});
