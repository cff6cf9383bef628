import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import reporter from 'io-ts-reporters';
import { DEFAULT_MAX_CONNECTIONS, describeDatabaseUrl } from '../adapters/postgres/postgres-connection';
import { DEFAULT_PAYMENT_SETTINGS } from '../adapters/payment/simulated-payment-gateway';
import { DEFAULT_HELD_EVENT_BOUNDS } from '../application/order-view';
import { DEFAULT_SPEND_LIMIT_SETTINGS, MAX_SPEND_AMOUNT } from '../application/spend-limit';
import { DEFAULT_HOLD_SWEEP_MS } from '../application/stages/order-view.stage';
import type { LifecycleConfig } from './config';
import { ConfigError, Env, fromString } from './env-config';

export type { LifecycleConfig } from './config';

const Decimal = (name: string, min: number, max: number) =>
  fromString(name, (s) => {
    const n = Number(s);
    return /^\d+(\.\d+)?$/.test(s) && n >= min && n <= max ? n : undefined;
  });

const WholeNumber = (what: string, max: number) =>
  fromString(`${what}: a whole number from 1 to ${max}`, (s) => {
    const n = Number(s);
    return /^\d+$/.test(s) && n >= 1 && n <= max ? n : undefined;
  });

/** A day: a longer hold or sweep is a typo (seconds for milliseconds), not a plan. */
const DAY_MS = 86_400_000;

const Variables = t.partial({
  ORDERFLOW_PAYMENT_LIMIT: Decimal('an amount >= 0 (e.g. 5000 or 2500.50)', 0, Number.MAX_SAFE_INTEGER),
  ORDERFLOW_PAYMENT_TRANSIENT_FAILURE_RATE: Decimal('a rate from 0 to 1 (e.g. 0.05)', 0, 1),
  // Bounded so that the limit in cents is an exact integer.
  ORDERFLOW_FRAUD_LIMIT: Decimal(`an amount from 0 to ${MAX_SPEND_AMOUNT} (e.g. 10000 or 2500.50)`, 0, MAX_SPEND_AMOUNT),
  ORDERFLOW_STOCK_FILE: fromString('a file path', (s) => (s.length > 0 ? s : undefined)),
  ORDERFLOW_VIEW_HOLD_MAX_EVENTS: WholeNumber('events', 10_000_000),
  ORDERFLOW_VIEW_HOLD_MAX_AGE_MS: WholeNumber('milliseconds', DAY_MS),
  ORDERFLOW_VIEW_HOLD_SWEEP_MS: WholeNumber('milliseconds', DAY_MS),
});

/** Every variable this module reads, for the lists in `.env.example` and the README. */
export const LIFECYCLE_VARIABLES: readonly string[] = ['DATABASE_URL', ...Object.keys(Variables.props)];

/**
 * Checks DATABASE_URL without ever repeating it: it carries the password. Only its scheme is
 * named, when that is what is wrong.
 */
const databaseUrlProblem = (value: string): string | undefined => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'DATABASE_URL is invalid: expected a postgres:// or postgresql:// URL (value hidden: it is not a URL)';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `DATABASE_URL is invalid: expected a postgres:// or postgresql:// URL, got a ${url.protocol}// URL (value hidden)`;
  }
  if (url.hostname === '') return 'DATABASE_URL is invalid: the URL names no host (value hidden)';
  return undefined;
};

/** Decodes the lifecycle's settings, reporting every invalid variable at once (ConfigError). */
/** The embedded default: everything in memory, the documented defaults. */
export const DEFAULT_LIFECYCLE_CONFIG: LifecycleConfig = { payment: DEFAULT_PAYMENT_SETTINGS, spendLimit: DEFAULT_SPEND_LIMIT_SETTINGS };

/** The order view's settings when ORDERFLOW_VIEW_HOLD_* are not set. */
export const DEFAULT_ORDER_VIEW_SETTINGS = { bounds: DEFAULT_HELD_EVENT_BOUNDS, sweepMs: DEFAULT_HOLD_SWEEP_MS } as const;

export const loadLifecycleConfig = (env: Env): LifecycleConfig => {
  const present = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const problems: string[] = [];
  const databaseUrl = present('DATABASE_URL');
  const urlProblem = databaseUrl === undefined ? undefined : databaseUrlProblem(databaseUrl);
  if (urlProblem !== undefined) problems.push(urlProblem);

  const values = Object.fromEntries(Object.keys(Variables.props).flatMap((name) => (present(name) === undefined ? [] : [[name, present(name)]])));
  const decoded = Variables.decode(values);
  if (isLeft(decoded)) {
    problems.push(
      ...reporter
        .report(decoded)
        .map((line) => line.replace(/^Expecting (.*) at ([A-Z0-9_]+) but instead got: (.*)$/s, '$2 is invalid: expected $1, got $3')),
    );
  }
  if (problems.length > 0 || isLeft(decoded)) throw new ConfigError(problems);
  const v = decoded.right;
  return {
    ...(databaseUrl === undefined ? {} : { postgres: { url: databaseUrl, maxConnections: DEFAULT_MAX_CONNECTIONS } }),
    payment: {
      limit: v.ORDERFLOW_PAYMENT_LIMIT ?? DEFAULT_PAYMENT_SETTINGS.limit,
      transientFailureRate: v.ORDERFLOW_PAYMENT_TRANSIENT_FAILURE_RATE ?? DEFAULT_PAYMENT_SETTINGS.transientFailureRate,
    },
    spendLimit: { windowMs: DEFAULT_SPEND_LIMIT_SETTINGS.windowMs, limit: v.ORDERFLOW_FRAUD_LIMIT ?? DEFAULT_SPEND_LIMIT_SETTINGS.limit },
    ...(v.ORDERFLOW_STOCK_FILE === undefined ? {} : { stockFile: v.ORDERFLOW_STOCK_FILE }),
    view: {
      bounds: {
        maxEvents: v.ORDERFLOW_VIEW_HOLD_MAX_EVENTS ?? DEFAULT_HELD_EVENT_BOUNDS.maxEvents,
        maxAgeMs: v.ORDERFLOW_VIEW_HOLD_MAX_AGE_MS ?? DEFAULT_HELD_EVENT_BOUNDS.maxAgeMs,
      },
      sweepMs: v.ORDERFLOW_VIEW_HOLD_SWEEP_MS ?? DEFAULT_HOLD_SWEEP_MS,
    },
  };
};

/** For the startup log: where stock, payments and the spend window live, with the password left out. */
export const describeLifecycleConfig = (config: LifecycleConfig): Record<string, unknown> => ({
  stockAndPayments: config.postgres === undefined ? 'memory' : `postgres ${describeDatabaseUrl(config.postgres.url)}`,
  paymentLimit: config.payment.limit,
  paymentTransientFailureRate: config.payment.transientFailureRate,
  fraudLimit: config.spendLimit.limit,
  fraudWindowMinutes: config.spendLimit.windowMs / 60_000,
  ...(config.stockFile === undefined ? {} : { stockFile: config.stockFile }),
  orderView: config.postgres === undefined ? 'memory' : 'postgres',
  viewHold: config.view ?? DEFAULT_ORDER_VIEW_SETTINGS,
});
