import { subscriptionHandlerOf, TrackedDeliveryBatch } from '../../../src/application/delivery/tracked-delivery-batch';
import { anInboundMessage } from '../../support/builders';

/** A batch of `count` messages of 10 value bytes (and a 2-byte key), recording every range it reports settled. */
const aBatch = (count = 5) => {
  const settled: string[] = [];
  const messages = Array.from({ length: count }, (_, i) =>
    anInboundMessage({ offset: String(100 + i), key: Buffer.from('k1'), value: Buffer.alloc(10) }),
  );
  const batch = new TrackedDeliveryBatch('orders.v1', 3, 7, messages, 'context', (b, first, last, reason) => {
    expect(b.context).toBe('context');
    settled.push(reason === undefined ? `acked ${first}..${last}` : `nacked ${first}..${last}: ${reason.message}`);
  });
  return { batch, settled };
};

describe('TrackedDeliveryBatch', () => {
  it('reports each newly acked prefix once, and ignores acks at or below one made before', () => {
    const { batch, settled } = aBatch();
    batch.ackThrough(1);
    batch.ackThrough(1);
    batch.ackThrough(0);
    batch.ackThrough(3);
    expect(settled).toEqual(['acked 0..1', 'acked 2..3']);
    expect(batch.inFlight).toBe(1);
  });

  it('nacks from an index to the end, leaving what is before it in flight, and acks after that stop at the nack', () => {
    const { batch, settled } = aBatch();
    batch.nack(3, new Error('store down'));
    expect(batch.inFlight).toBe(3);
    batch.ackThrough(4);
    batch.nack(4, new Error('again'));
    expect(settled).toEqual(['nacked 3..4: store down', 'acked 0..2']);
    expect(batch.inFlight).toBe(0);
  });

  it('never nacks what was acked: a nack below the acked prefix covers only the rest', () => {
    const { batch, settled } = aBatch();
    batch.ackThrough(2);
    batch.nack(0, new Error('late'));
    batch.nackUnacked(new Error('handler rejected'));
    expect(settled).toEqual(['acked 0..2', 'nacked 3..4: late']);
  });

  it('nacks the unacked rest when the handler fails, also what a nack left in flight', () => {
    const { batch, settled } = aBatch();
    batch.ackThrough(0);
    batch.nack(3, new Error('first'));
    batch.nackUnacked(new Error('handler rejected'));
    expect(settled).toEqual(['acked 0..0', 'nacked 3..4: first', 'nacked 1..2: handler rejected']);
    batch.nackUnacked(new Error('twice'));
    expect(settled).toHaveLength(3);
  });

  it('counts the key and value bytes of a range', () => {
    expect(aBatch().batch.bytesOf(1, 3)).toBe(36);
  });

  it.each([-1, 5, 1.5, Number.NaN])('refuses index %p with the batch and the valid range named', (index) => {
    const { batch, settled } = aBatch();
    expect(() => batch.ackThrough(index)).toThrow(
      new RangeError(`ackThrough(${index}) on a batch of 5 message(s) of orders.v1 partition 3: the index must be an integer from 0 to 4`),
    );
    expect(() => batch.nack(index, new Error('x'))).toThrow(/^nack\(.*\) on a batch of 5 message\(s\)/);
    expect(settled).toEqual([]);
  });
});

describe('subscriptionHandlerOf', () => {
  const base = { topic: 'orders.v1', groupId: 'g' };
  const handler = (): void => undefined;

  it('tells the two shapes apart', () => {
    expect(subscriptionHandlerOf({ ...base, handler }).kind).toBe('delivery');
    expect(subscriptionHandlerOf({ ...base, batchHandler: handler }).kind).toBe('batch');
  });

  it('refuses both, and neither, naming the subscription', () => {
    expect(() => subscriptionHandlerOf({ ...base, handler, batchHandler: handler })).toThrow(
      'Subscription of group g to orders.v1: give exactly one of handler (per message) and batchHandler (per batch), not both',
    );
    expect(() => subscriptionHandlerOf(base)).toThrow(/^Subscription of group g to orders.v1: .*neither was given$/);
  });

  it('refuses a handler that is not a function', () => {
    expect(() => subscriptionHandlerOf({ ...base, batchHandler: 'ack' as never })).toThrow('batchHandler must be a function, got string');
  });
});
