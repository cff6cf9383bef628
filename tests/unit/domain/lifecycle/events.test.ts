import { eventLinesOf, occurredAtOf, orderLinesOf } from '../../../../src/domain/lifecycle/events';

describe('lifecycle events', () => {
  const cause = '2026-11-22T10:00:00.000Z';

  it('happen when their cause was written: the input record’s timestamp', () => {
    expect(occurredAtOf(cause, Date.parse('2026-11-22T10:00:03.250Z'))).toBe('2026-11-22T10:00:03.250Z');
  });

  it('never before their cause, whatever the record says', () => {
    expect(occurredAtOf(cause, Date.parse('2026-11-22T09:00:00.000Z'))).toBe(cause);
    expect(occurredAtOf(cause, -1)).toBe(cause);
    // A producer that wrote microseconds: not a time, ignored.
    expect(occurredAtOf(cause, Date.parse(cause) * 1000)).toBe(cause);
  });

  it('are written in UTC whatever zone the cause was written in', () => {
    expect(occurredAtOf('2026-11-22T11:00:00+01:00', 0)).toBe(cause);
  });

  it('carry lines in the wire’s names, and back', () => {
    const lines = [{ sku: 'A', quantity: 2, unitPrice: 1.5 }];
    expect(eventLinesOf(lines)).toEqual([{ sku: 'A', quantity: 2, unit_price: 1.5 }]);
    expect(orderLinesOf(eventLinesOf(lines))).toEqual(lines);
  });
});
