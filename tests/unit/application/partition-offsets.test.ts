import fc from 'fast-check';
import { PartitionOffsets } from '../../../src/application/delivery/partition-offsets';

const deliveredOf = (start: number, offsets: readonly number[]): PartitionOffsets => {
  const tracker = new PartitionOffsets(start);
  offsets.forEach((offset) => tracker.delivered(offset));
  return tracker;
};

describe('PartitionOffsets', () => {
  it('starts at its start position and moves to one past the last delivered once everything is acked', () => {
    const offsets = deliveredOf(5, [5, 6, 7]);
    expect(offsets.position).toBe(5);
    expect(offsets.inFlight).toBe(3);
    expect(offsets.ack(5)).toBe(true);
    expect(offsets.ack(7)).toBe(false);
    expect(offsets.position).toBe(6);
    expect(offsets.ack(6)).toBe(true);
    expect(offsets.position).toBe(8);
    expect(offsets.inFlight).toBe(0);
  });

  it('keeps the position at a nacked offset, however many after it are acked', () => {
    const offsets = deliveredOf(0, [0, 1, 2, 3, 4]);
    offsets.ack(0);
    offsets.ack(1);
    expect(offsets.nack(2)).toBe(true);
    offsets.ack(3);
    offsets.ack(4);
    expect(offsets.position).toBe(2);
    expect(offsets.inFlight).toBe(0);
    // Settled once: a later ack of the nacked offset changes nothing.
    expect(offsets.ack(2)).toBe(false);
    expect(offsets.position).toBe(2);
    expect(offsets.rewind()).toBe(2);
  });

  it('follows gaps between delivered offsets (compaction, transaction markers)', () => {
    const offsets = deliveredOf(10, [10, 13, 20]);
    offsets.ack(10);
    expect(offsets.position).toBe(13);
    offsets.ack(13);
    offsets.ack(20);
    expect(offsets.position).toBe(21);
    expect(offsets.ack(11)).toBe(false);
  });

  it('refuses an offset delivered out of order', () => {
    const offsets = deliveredOf(0, [0, 1]);
    expect(() => offsets.delivered(1)).toThrow('Offset 1 delivered out of order');
  });

  it('acks a range of offsets at once, skipping gaps and what was settled before', () => {
    const offsets = deliveredOf(0, [0, 1, 3, 4, 6, 7]);
    offsets.nack(4);
    expect(offsets.ackRange(0, 5)).toBe(true);
    // 0, 1 and 3 acked; 4 was nacked, so the position stops there.
    expect(offsets.position).toBe(4);
    expect(offsets.inFlight).toBe(2);
    expect(offsets.isInFlight(3)).toBe(false);
    expect(offsets.isInFlight(6)).toBe(true);
    expect(offsets.ackRange(6, 7)).toBe(false);
    expect(offsets.inFlight).toBe(0);
    expect(offsets.position).toBe(4);
  });

  it('moves the position only when a range closes the gap at the head', () => {
    const offsets = deliveredOf(0, [0, 1, 2, 3, 4, 5]);
    expect(offsets.ackRange(3, 5)).toBe(false);
    expect(offsets.position).toBe(0);
    expect(offsets.ackRange(0, 2)).toBe(true);
    expect(offsets.position).toBe(6);
  });

  it('nacks a range, counting only what was still in flight', () => {
    const offsets = deliveredOf(0, [0, 1, 2, 3]);
    offsets.ack(1);
    expect(offsets.nackRange(0, 2)).toBe(2);
    expect(offsets.nackRange(0, 3)).toBe(1);
    expect(offsets.inFlight).toBe(0);
    expect(offsets.position).toBe(0);
    expect(offsets.nackRange(7, 9)).toBe(0);
  });

  it('is the first unacked delivered offset after any sequence of single and range acks (checked against a model)', () => {
    const steps = fc.array(
      fc.record({ kind: fc.constantFrom('ack', 'nack', 'ackRange', 'nackRange'), a: fc.nat(60), b: fc.nat(8) }),
      { maxLength: 80 },
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(60), { minLength: 1, maxLength: 40 }), steps, (unsorted, operations) => {
        const delivered = [...unsorted].sort((x, y) => x - y);
        const offsets = deliveredOf(delivered[0]!, delivered);
        const model = new Map(delivered.map((offset) => [offset, 'in flight' as 'in flight' | 'acked' | 'nacked']));
        for (const { kind, a, b } of operations) {
          const [first, last] = kind.endsWith('Range') ? [a, a + b] : [a, a];
          for (const [offset, state] of model) {
            if (offset >= first && offset <= last && state === 'in flight') model.set(offset, kind.startsWith('ack') ? 'acked' : 'nacked');
          }
          if (kind === 'ack') offsets.ack(a);
          else if (kind === 'nack') offsets.nack(a);
          else if (kind === 'ackRange') offsets.ackRange(first, last);
          else offsets.nackRange(first, last);
          const firstUnacked = delivered.find((offset) => model.get(offset) !== 'acked');
          expect(offsets.position).toBe(firstUnacked ?? delivered[delivered.length - 1]! + 1);
          expect(offsets.inFlight).toBe([...model.values()].filter((state) => state === 'in flight').length);
        }
      }),
    );
  });

  it('keeps its answers across compaction of a long acked history', () => {
    const offsets = new PartitionOffsets(0);
    for (let offset = 0; offset < 5_000; offset++) offsets.delivered(offset);
    expect(offsets.ackRange(0, 2_999)).toBe(true);
    expect(offsets.position).toBe(3_000);
    offsets.nack(3_000);
    expect(offsets.ackRange(3_001, 4_999)).toBe(false);
    expect(offsets.isInFlight(4_999)).toBe(false);
    expect(offsets.position).toBe(3_000);
    expect(offsets.inFlight).toBe(0);
  });
});
