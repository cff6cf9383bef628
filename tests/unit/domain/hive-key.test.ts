import { enrich } from '../../../src/domain/enriched-order';
import { hiveKey, isValidPrefix, utcDate } from '../../../src/domain/hive-key';
import { anOrder } from '../../support/builders';

describe('Hive keys and enrichment', () => {
  it('partitions by the UTC date of the event time', () => {
    const order = anOrder({ id: 'o-1001', producedAt: Date.parse('2026-11-22T23:59:59.999Z') });
    expect(hiveKey('orders', order.producedAt!, order.id)).toBe('orders/dt=2026-11-22/orderId=o-1001.json');
  });

  it('uses UTC, not the local time zone, at the day boundary', () => {
    const order = anOrder({ id: 'o-7' });
    expect(hiveKey('lake/orders', Date.parse('2026-11-23T00:30:00+02:00'), order.id)).toBe(
      'lake/orders/dt=2026-11-22/orderId=o-7.json',
    );
  });

  it.each(['orders', 'lake/orders', 'a_b-c.d'])('accepts the prefix %j', (prefix) => expect(isValidPrefix(prefix)).toBe(true));
  it.each(['', '/orders', 'orders/', 'a//b', '../x', 'a/./b', 'has space'])('refuses the prefix %j', (prefix) =>
    expect(isValidPrefix(prefix)).toBe(false),
  );

  it('enriches with consumed_at, latency, risk and the high-risk flag', () => {
    const order = anOrder({ id: 'o-1002', total: 879, channel: 'partner', producedAt: Date.parse('2026-11-22T10:00:00.000Z') });
    expect(enrich(order, 0.3, Date.parse('2026-11-22T10:00:00.250Z'), 0)).toEqual({
      id: 'o-1002',
      customer: 'C-9',
      total: 879,
      channel: 'partner',
      produced_at: '2026-11-22T10:00:00.000Z',
      consumed_at: '2026-11-22T10:00:00.250Z',
      latency_ms: 250,
      risk_score: 0.3,
      high_risk: true,
    });
  });

  it('falls back to the message timestamp when the producer gave no produced_at', () => {
    const { producedAt: _omitted, ...fields } = anOrder({ id: 'o-9' });
    const record = enrich({ ...fields }, 0.5, 2_000, 1_500);
    expect(record.latency_ms).toBe(500);
    expect(record).not.toHaveProperty('produced_at');
  });
});

describe('Hive keys and enrichment formatted once per day and per instant', () => {
  it('gives each instant its own date and ISO strings, whatever was formatted just before', () => {
    const instants = ['2026-11-22T23:59:59.999Z', '2026-11-23T00:00:00.000Z', '2026-11-22T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z'];
    for (const iso of [...instants, ...instants.reverse()]) {
      const ms = Date.parse(iso);
      expect(utcDate(ms)).toBe(iso.slice(0, 10));
      const record = enrich(anOrder({ producedAt: ms }), 0.1, ms + 1, 0);
      expect([record.produced_at, record.consumed_at]).toEqual([iso, new Date(ms + 1).toISOString()]);
    }
  });

  it('still refuses an instant Date cannot hold, right after a valid one', () => {
    utcDate(Date.parse('2026-11-22T10:00:00.000Z'));
    expect(() => utcDate(Number.NaN)).toThrow(RangeError);
    expect(() => utcDate(8.64e15 + 1)).toThrow(RangeError);
  });
});
