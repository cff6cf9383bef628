import { createOrder } from '../../../src/domain/order';
import { RiskScorerRegistry } from '../../../src/domain/risk';
import { anOrder, SEED_SAMPLES } from '../../support/builders';

describe('risk scoring', () => {
  const registry = new RiskScorerRegistry();

  it.each(SEED_SAMPLES)('scores the seed sample $order.id as $risk', ({ order, risk }) => {
    const created = createOrder(order);
    if (!created.ok) throw new Error(created.error.message);
    const score = registry.score(created.value);
    expect(score.ok).toBe(true);
    if (score.ok) expect(score.value).toBeCloseTo(risk, 4);
  });

  it('caps web risk at 0.99', () => {
    expect(registry.score(anOrder({ channel: 'web', total: 5_000 }))).toEqual({ ok: true, value: 0.99 });
  });

  it('raises partner risk from a total of 2000', () => {
    expect(registry.score(anOrder({ channel: 'partner', total: 1_999.99 }))).toEqual({ ok: true, value: 0.3 });
    expect(registry.score(anOrder({ channel: 'partner', total: 2_000 }))).toEqual({ ok: true, value: 0.7 });
  });

  it('rejects an unknown channel with a typed rejection, not an exception', () => {
    const result = registry.score(anOrder({ channel: 'fax' }));
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'ORDER.UNKNOWN_CHANNEL', stage: 'score' }),
    });
    if (!result.ok) expect(result.error.message).toContain('"fax"');
  });

  it('is open: a new channel is a registration, not an edit of the core', () => {
    const extended = new RiskScorerRegistry().register({ channel: 'kiosk', score: (order) => (order.total > 100 ? 0.4 : 0.1) });
    expect(extended.score(anOrder({ channel: 'kiosk', total: 150 }))).toEqual({ ok: true, value: 0.4 });
    expect(extended.score(anOrder({ channel: 'web', total: 100 }))).toEqual({ ok: true, value: 0.1 });
  });

  it('refuses to silently replace a registered strategy', () => {
    expect(() => new RiskScorerRegistry().register({ channel: 'web', score: () => 0 })).toThrow(/already registered/);
  });

  it('does not mistake inherited object keys for channels', () => {
    for (const channel of ['__proto__', 'constructor', 'toString']) {
      expect(registry.score(anOrder({ channel }))).toMatchObject({ ok: false, error: { code: 'ORDER.UNKNOWN_CHANNEL' } });
    }
  });
});
