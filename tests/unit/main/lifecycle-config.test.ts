import { ConfigError } from '../../../src/main/env-config';
import { describeLifecycleConfig, loadLifecycleConfig } from '../../../src/main/lifecycle-config';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadLifecycleConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('loadLifecycleConfig', () => {
  it('defaults to in-memory stock and payments, a limit of 5000 and no transient failures, and a fraud limit of 10000 an hour', () => {
    expect(loadLifecycleConfig({})).toEqual({
      payment: { limit: 5000, transientFailureRate: 0 },
      spendLimit: { windowMs: 3_600_000, limit: 10_000 },
      view: { bounds: { maxEvents: 10_000, maxAgeMs: 3_600_000 }, sweepMs: 5_000 },
    });
  });

  it('reads the order view’s hold: ORDERFLOW_VIEW_HOLD_MAX_EVENTS, _MAX_AGE_MS and _SWEEP_MS', () => {
    expect(loadLifecycleConfig({ ORDERFLOW_VIEW_HOLD_MAX_EVENTS: '50', ORDERFLOW_VIEW_HOLD_MAX_AGE_MS: '60000', ORDERFLOW_VIEW_HOLD_SWEEP_MS: '250' }).view).toEqual({
      bounds: { maxEvents: 50, maxAgeMs: 60_000 },
      sweepMs: 250,
    });
  });

  it.each([
    ['ORDERFLOW_VIEW_HOLD_MAX_EVENTS', '0', 'events: a whole number from 1 to 10000000'],
    ['ORDERFLOW_VIEW_HOLD_MAX_EVENTS', '1.5', 'events: a whole number from 1 to 10000000'],
    ['ORDERFLOW_VIEW_HOLD_MAX_AGE_MS', '5m', 'milliseconds: a whole number from 1 to 86400000'],
    ['ORDERFLOW_VIEW_HOLD_MAX_AGE_MS', '86400001', 'milliseconds: a whole number from 1 to 86400000'],
    ['ORDERFLOW_VIEW_HOLD_SWEEP_MS', '-1', 'milliseconds: a whole number from 1 to 86400000'],
  ])('refuses %s=%s with a message naming it', (name, value, expected) => {
    expect(problemsOf({ [name]: value })).toEqual([`${name} is invalid: expected ${expected}, got "${value}"`]);
  });

  it('reads ORDERFLOW_FRAUD_LIMIT as an amount >= 0, cents included, and 0 (admit nothing but free orders), up to the largest exact in cents', () => {
    expect(loadLifecycleConfig({ ORDERFLOW_FRAUD_LIMIT: '2500.50' }).spendLimit).toEqual({ windowMs: 3_600_000, limit: 2500.5 });
    expect(loadLifecycleConfig({ ORDERFLOW_FRAUD_LIMIT: '0' }).spendLimit.limit).toBe(0);
    expect(loadLifecycleConfig({ ORDERFLOW_FRAUD_LIMIT: ' ' }).spendLimit.limit).toBe(10_000);
    expect(loadLifecycleConfig({ ORDERFLOW_FRAUD_LIMIT: '90071992547409' }).spendLimit.limit).toBe(90_071_992_547_409);
  });

  it.each(['-1', 'abc', '1e4', '10,000', 'Infinity', '100000000000000'])('refuses ORDERFLOW_FRAUD_LIMIT=%s with a message naming it', (value) => {
    expect(problemsOf({ ORDERFLOW_FRAUD_LIMIT: value })).toEqual([
      `ORDERFLOW_FRAUD_LIMIT is invalid: expected an amount from 0 to 90071992547409 (e.g. 10000 or 2500.50), got "${value}"`,
    ]);
  });

  it('reads DATABASE_URL (postgres:// or postgresql://), the payment settings and the stock file', () => {
    const config = loadLifecycleConfig({
      DATABASE_URL: 'postgresql://orderflow:pw@127.0.0.1:19432/orderflow',
      ORDERFLOW_PAYMENT_LIMIT: '2500.50',
      ORDERFLOW_PAYMENT_TRANSIENT_FAILURE_RATE: '0.05',
      ORDERFLOW_STOCK_FILE: 'stock.json',
      ORDERFLOW_FRAUD_LIMIT: '7500',
    });
    expect(config).toEqual({
      postgres: { url: 'postgresql://orderflow:pw@127.0.0.1:19432/orderflow', maxConnections: 8 },
      payment: { limit: 2500.5, transientFailureRate: 0.05 },
      spendLimit: { windowMs: 3_600_000, limit: 7500 },
      view: { bounds: { maxEvents: 10_000, maxAgeMs: 3_600_000 }, sweepMs: 5_000 },
      stockFile: 'stock.json',
    });
    expect(loadLifecycleConfig({ DATABASE_URL: 'postgres://u:p@db/x' }).postgres?.url).toBe('postgres://u:p@db/x');
  });

  it('reports every invalid variable at once, naming DATABASE_URL without printing its password', () => {
    const problems = problemsOf({
      DATABASE_URL: 'mysql://orderflow:hunter2-secret@db:3306/orders',
      ORDERFLOW_PAYMENT_LIMIT: '-1',
      ORDERFLOW_PAYMENT_TRANSIENT_FAILURE_RATE: '1.5',
      ORDERFLOW_FRAUD_LIMIT: 'ten thousand',
    });
    expect(problems).toEqual([
      'DATABASE_URL is invalid: expected a postgres:// or postgresql:// URL, got a mysql:// URL (value hidden)',
      'ORDERFLOW_FRAUD_LIMIT is invalid: expected an amount from 0 to 90071992547409 (e.g. 10000 or 2500.50), got "ten thousand"',
      'ORDERFLOW_PAYMENT_LIMIT is invalid: expected an amount >= 0 (e.g. 5000 or 2500.50), got "-1"',
      'ORDERFLOW_PAYMENT_TRANSIENT_FAILURE_RATE is invalid: expected a rate from 0 to 1 (e.g. 0.05), got "1.5"',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2-secret');
  });

  it('hides a DATABASE_URL that is not a URL at all', () => {
    expect(problemsOf({ DATABASE_URL: 'orderflow:hunter2-secret@db' })).toEqual([
      expect.stringMatching(/^DATABASE_URL is invalid: .*value hidden/),
    ]);
    expect(problemsOf({ DATABASE_URL: 'orderflow:hunter2-secret@db' }).join()).not.toContain('hunter2');
  });
});

describe('describeLifecycleConfig', () => {
  it('names the database without its password', () => {
    const config = loadLifecycleConfig({ DATABASE_URL: 'postgresql://orderflow:hunter2-secret@127.0.0.1:19432/orderflow' });
    expect(describeLifecycleConfig(config)).toEqual({
      stockAndPayments: 'postgres orderflow@127.0.0.1:19432/orderflow',
      orderView: 'postgres',
      viewHold: { bounds: { maxEvents: 10_000, maxAgeMs: 3_600_000 }, sweepMs: 5_000 },
      paymentLimit: 5000,
      paymentTransientFailureRate: 0,
      fraudLimit: 10_000,
      fraudWindowMinutes: 60,
    });
    expect(describeLifecycleConfig(loadLifecycleConfig({})).stockAndPayments).toBe('memory');
  });
});
