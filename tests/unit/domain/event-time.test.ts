import { chooseEventTime, MAX_EVENT_TIME_MS, parseIsoInstant } from '../../../src/domain/event-time';
import { createOrder } from '../../../src/domain/order';

describe('event time', () => {
  it.each([
    ['2026-11-22T10:00:00.000Z', Date.UTC(2026, 10, 22, 10)],
    ['2024-02-29T23:59:59Z', Date.UTC(2024, 1, 29, 23, 59, 59)],
    ['2026-11-23T00:30:00+02:00', Date.UTC(2026, 10, 22, 22, 30)],
    ['0000-01-01T00:00:00Z', Date.parse('0000-01-01T00:00:00Z')],
  ])('reads the real instant %s', (text, expected) => {
    expect(parseIsoInstant(text)).toBe(expected);
  });

  it.each([
    '2026-02-30T10:00:00Z', // Date.parse rolls it over to 2 March
    '2025-02-29T10:00:00Z', // not a leap year
    '2026-04-31T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-00-10T10:00:00Z',
    '2026-11-22T24:00:00Z', // Date.parse makes it the next day's midnight
    '2026-11-22T10:60:00Z',
    '2026-11-22T10:00:60Z',
    '2026-11-22T10:00:00+24:00',
    '9999-12-31T23:00:00-05:00', // year 10000 in UTC: dt=+010000-01
    '2026-11-22',
    '2026-11-22T10:00:00', // no zone: local time would depend on the consumer's machine
  ])('refuses %s, which does not round-trip to the date it names', (text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
  });

  it.each([-1, -1_000, 1.7e18 /* nanoseconds */, 1.7e15 /* microseconds: year 55,840 */, 8.64e15 + 1, MAX_EVENT_TIME_MS + 1, Number.NaN, 1.5])(
    'refuses the record timestamp %p when there is no produced_at',
    (recordTimestampMs) => {
      expect(chooseEventTime({ recordTimestampMs })).toMatchObject({ ok: false, error: { code: 'MESSAGE.INVALID_TIMESTAMP', stage: 'validate' } });
    },
  );

  it('takes produced_at over the record timestamp, however hostile the latter', () => {
    expect(chooseEventTime({ producedAt: 5, recordTimestampMs: 1.7e18 })).toEqual({ ok: true, value: 5 });
    expect(chooseEventTime({ recordTimestampMs: 0 })).toEqual({ ok: true, value: 0 });
    expect(chooseEventTime({ recordTimestampMs: MAX_EVENT_TIME_MS })).toEqual({ ok: true, value: MAX_EVENT_TIME_MS });
  });

  it('refuses an order whose produced_at is outside the years 0000-9999', () => {
    const fields = { id: 'o-1', customer: 'C', total: 1, channel: 'web' };
    expect(createOrder({ ...fields, producedAt: MAX_EVENT_TIME_MS + 1 })).toMatchObject({ ok: false, error: { code: 'ORDER.INVALID_PRODUCED_AT' } });
    expect(createOrder({ ...fields, producedAt: Date.parse('-000001-06-01T00:00:00Z') })).toMatchObject({
      ok: false,
      error: { code: 'ORDER.INVALID_PRODUCED_AT' },
    });
  });
});
