import fc from 'fast-check';
import {
  batchObjectKey,
  fullness,
  idleBatchObjectKey,
  isFull,
  isIdle,
  messageWeight,
  rotationBefore,
  validateRotationPolicy,
} from '../../../src/domain/batch-rotation';
import { utcDate } from '../../../src/domain/hive-key';

const policy = { maxMessages: 3, maxSpanMs: 60_000 };
const at = (iso: string): number => Date.parse(iso);

describe('batch rotation and naming', () => {
  it('names an object by topic, partition and zero-padded start offset under the UTC date of its records', () => {
    expect(batchObjectKey('orders-batched', at('2026-11-22T23:59:59.999Z'), 'orders.v1', 4, 1234)).toBe(
      'orders-batched/dt=2026-11-22/orders.v1+4+0000001234.ndjson',
    );
    expect(batchObjectKey('lake/orders-batched', at('2026-11-23T00:30:00+02:00'), 't', 0, 0)).toBe(
      'lake/orders-batched/dt=2026-11-22/t+0+0000000000.ndjson',
    );
  });

  it('keeps offsets past ten digits whole', () => {
    expect(batchObjectKey('p', 0, 't', 1, 12_345_678_901)).toBe('p/dt=1970-01-01/t+1+12345678901.ndjson');
  });

  it('names an idle cut by both ends, so that no name can stand for two different sets of records', () => {
    expect(idleBatchObjectKey('orders-batched', at('2026-11-22T10:00:00Z'), 'orders.v1', 2, 400, 457)).toBe(
      'orders-batched/dt=2026-11-22/orders.v1+2+0000000400+0000000457.ndjson',
    );
    // Never the name of a batch cut by the records' own rules.
    expect(idleBatchObjectKey('p', 0, 't', 0, 0, 0)).not.toBe(batchObjectKey('p', 0, 't', 0, 0));
  });

  it('is idle only when asked to be, once no message joined for idleFlushMs', () => {
    expect(isIdle(0, 1_000_000, policy)).toBe(false);
    const idle = { ...policy, idleFlushMs: 5_000 };
    expect(isIdle(10_000, 14_999, idle)).toBe(false);
    expect(isIdle(10_000, 15_000, idle)).toBe(true);
  });

  it('is full at maxMessages, dead letters included', () => {
    expect(isFull({ messages: 2, firstEventTimeMs: undefined }, policy)).toBe(false);
    expect(isFull({ messages: 3, firstEventTimeMs: undefined }, policy)).toBe(true);
  });

  it('closes before a record of another UTC date', () => {
    const batch = { messages: 1, firstEventTimeMs: at('2026-11-22T23:59:59.900Z') };
    expect(rotationBefore(batch, at('2026-11-22T23:59:59.999Z'), policy)).toBeUndefined();
    expect(rotationBefore(batch, at('2026-11-23T00:00:00.000Z'), policy)).toBe('date');
    // A step back over midnight is a date change too: one object never spans two dates.
    expect(rotationBefore({ messages: 1, firstEventTimeMs: at('2026-11-23T00:00:00.100Z') }, at('2026-11-22T23:59:59.950Z'), policy)).toBe(
      'date',
    );
  });

  it('closes before a record at or beyond the event-time span, never on a step back within the day', () => {
    const batch = { messages: 1, firstEventTimeMs: at('2026-11-22T10:00:00.000Z') };
    expect(rotationBefore(batch, at('2026-11-22T10:00:59.999Z'), policy)).toBeUndefined();
    expect(rotationBefore(batch, at('2026-11-22T10:01:00.000Z'), policy)).toBe('span');
    expect(rotationBefore(batch, at('2026-11-22T09:59:00.000Z'), policy)).toBeUndefined();
  });

  it('never closes a batch that holds only dead letters for its time', () => {
    expect(rotationBefore({ messages: 2, firstEventTimeMs: undefined }, at('2030-01-01T00:00:00Z'), policy)).toBeUndefined();
  });

  it('compares days exactly as the dates in the keys do', () => {
    const instant = fc.integer({ min: 0, max: 4_102_444_800_000 });
    // Mostly near each other, so that both answers come up often.
    const step = fc.integer({ min: -2 * 86_400_000, max: 2 * 86_400_000 });
    fc.assert(
      fc.property(instant, step, (a, delta) => {
        const b = Math.max(0, a + delta);
        const closes = rotationBefore({ messages: 1, firstEventTimeMs: a }, b, { maxMessages: 10, maxSpanMs: Number.MAX_SAFE_INTEGER }) === 'date';
        expect(closes).toBe(utcDate(a) !== utcDate(b));
      }),
    );
  });

  it.each([
    [{ maxMessages: 0, maxSpanMs: 1 }],
    [{ maxMessages: 1.5, maxSpanMs: 1 }],
    [{ maxMessages: 1, maxSpanMs: 0 }],
    [{ maxMessages: 1, maxSpanMs: 1, idleFlushMs: 0 }],
  ])('refuses the policy %j', (invalid) => expect(() => validateRotationPolicy(invalid)).toThrow(RangeError));

  it('cuts by bytes: a record that would push the batch over maxBytes starts the next batch; one that alone reaches it fills a batch', () => {
    const bounded = { ...policy, maxMessages: 1000, maxBytes: 1_000 };
    const t0 = at('2026-11-22T10:00:00Z');
    expect(rotationBefore({ messages: 2, firstEventTimeMs: t0, bytes: 600 }, t0, bounded, 400)).toBeUndefined();
    expect(rotationBefore({ messages: 2, firstEventTimeMs: t0, bytes: 600 }, t0, bounded, 401)).toBe('bytes');
    // An empty batch takes any record, however large; it is then full by itself.
    expect(rotationBefore({ messages: 1, firstEventTimeMs: undefined, bytes: 0 }, t0, bounded, 5_000)).toBeUndefined();
    expect(fullness({ messages: 1, firstEventTimeMs: t0, bytes: 5_000 }, bounded)).toBe('bytes');
    expect(fullness({ messages: 1, firstEventTimeMs: t0, bytes: 999 }, bounded)).toBeUndefined();
    expect(rotationBefore({ messages: 2, firstEventTimeMs: t0, bytes: 600 }, t0, policy, 10_000)).toBeUndefined();
    expect(messageWeight(100, 250)).toBe(250);
    expect(messageWeight(900, 250)).toBe(900);
    expect(() => validateRotationPolicy({ ...policy, maxBytes: 0 })).toThrow(/maxBytes/);
  });
});
