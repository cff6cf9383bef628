import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { closePostgresPool, createPostgresPool, PostgresAdapterError } from '../../../src/adapters/postgres/postgres-connection';
import { PostgresSpendLimit } from '../../../src/adapters/postgres/postgres-spend-limit';
import { SpendJudgement } from '../../../src/application/ports/spend-limit.port';
import { aSpendCandidate } from '../../support/builders';
import { LoggerSpy } from '../../support/logger-spy';
import { useMigratedSchema } from '../../support/postgres';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T10:00:00.000Z');

/**
 * What only the PostgreSQL spend limit promises, beyond the contract: its state outlives the
 * process, two processes share it safely, and it prunes. This file has its own schema, because
 * pruning deletes by event time across every customer in the table.
 */
describe('PostgresSpendLimit', () => {
  const db = useMigratedSchema();
  const pools: Pool[] = [];
  /** Another process's pool on the same schema. */
  const anotherPool = (url = db.url): Pool => {
    const pool = createPostgresPool({ url, schema: db.schema, maxConnections: 5 }, new LoggerSpy());
    pools.push(pool);
    return pool;
  };
  afterAll(async () => {
    await Promise.all(pools.map(closePostgresPool));
  });

  let run: string;
  beforeEach(() => {
    run = randomUUID().slice(0, 8);
  });
  const judgeOn = (spend: PostgresSpendLimit, customer: string, order: string, afterT0: number, amount: number): Promise<SpendJudgement> =>
    spend.judge(aSpendCandidate({ customer: `${run}-${customer}`, orderId: `${run}-${order}`, eventTimeMs: T0 + afterT0, amount }));
  const rowsOf = async (customer: string): Promise<number[]> =>
    (
      await db.pool.query<{ at: string }>('SELECT event_time_ms AS at FROM spend_judgements WHERE customer = $1 ORDER BY event_time_ms', [
        `${run}-${customer}`,
      ])
    ).rows.map((row) => Number(row.at) - T0);

  it('finds its decisions and the spend again after a restart (a new pool and a new instance)', async () => {
    const before = anotherPool();
    const first = new PostgresSpendLimit(before, { windowMs: HOUR, limit: 10_000 });
    expect(await judgeOn(first, 'C-1', 'o-1', 0, 6_000)).toEqual({ admitted: true, spentBefore: 0 });
    expect(await judgeOn(first, 'C-1', 'o-2', 1, 5_000)).toEqual({ admitted: false, spentBefore: 6_000 });
    await closePostgresPool(before);

    const restarted = new PostgresSpendLimit(anotherPool(), { windowMs: HOUR, limit: 10_000 });
    expect(await judgeOn(restarted, 'C-1', 'o-2', 1, 5_000)).toEqual({ admitted: false, spentBefore: 6_000 });
    expect(await judgeOn(restarted, 'C-1', 'o-1', 0, 6_000)).toEqual({ admitted: true, spentBefore: 0 });
    expect(await judgeOn(restarted, 'C-1', 'o-3', 2, 4_000)).toEqual({ admitted: true, spentBefore: 6_000 });
    expect(await judgeOn(restarted, 'C-1', 'o-4', 3, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
  });

  it('serialises one customer across two processes: together they never admit more than the limit', async () => {
    // Two members during a rebalance, each with its own pool, judging the same customer at once.
    const members = [anotherPool(), anotherPool()].map((pool) => new PostgresSpendLimit(pool, { windowMs: HOUR, limit: 10_000 }));
    const amounts = Array.from({ length: 30 }, (_, i) => 500 + 100 * (i % 9));
    const judgements = await Promise.all(amounts.map((amount, i) => judgeOn(members[i % 2]!, 'C-1', `o-${i}`, 0, amount)));
    const admitted = judgements.map((j, i) => ({ ...j, amount: amounts[i]! })).filter((j) => j.admitted);
    expect(admitted.reduce((sum, j) => sum + j.amount, 0)).toBeLessThanOrEqual(10_000);
    let running = 0;
    for (const j of [...admitted].sort((a, b) => a.spentBefore - b.spentBefore)) {
      expect(j.spentBefore).toBe(running);
      running += j.amount;
    }
    // And the same order raced from both members gets one decision.
    const raced = await Promise.all(members.flatMap((member) => [judgeOn(member, 'C-2', 'o-x', 0, 7_000), judgeOn(member, 'C-2', 'o-x', 0, 7_000)]));
    for (const j of raced) expect(j).toEqual({ admitted: true, spentBefore: 0 });
    expect(await rowsOf('C-2')).toEqual([0]);
  });

  it('prunes rows two windows behind the newest event time, not on every call but when event time has moved a quarter window on', async () => {
    // A short window keeps the event times small. The prunes also delete the rows of the tests
    // above (they sit near T0), which is why this file has a schema of its own.
    const minute = 60_000;
    const spend = new PostgresSpendLimit(db.pool, { windowMs: minute, limit: 10_000 });
    await judgeOn(spend, 'C-1', 'o-0', 0, 1); // first call: prunes (nothing yet), records t=0
    await judgeOn(spend, 'C-1', 'o-1', 130_000, 1); // due: prunes up to the newest then (0) − 2 min: nothing
    await judgeOn(spend, 'C-1', 'o-2', 140_000, 1); // 10 s on: not due, so t=0 stays though it is out of reach
    expect(await rowsOf('C-1')).toEqual([0, 130_000, 140_000]);
    await judgeOn(spend, 'C-1', 'o-3', 145_000, 1); // 15 s on: due, prunes up to 140 s − 2 min = 20 s
    expect(await rowsOf('C-1')).toEqual([130_000, 140_000, 145_000]);
    // Rows within two windows of the newest stay, the one exactly two windows behind goes; prune() counts.
    await judgeOn(spend, 'C-1', 'o-4', 260_000, 1);
    expect(await spend.prune()).toBe(2);
    expect(await rowsOf('C-1')).toEqual([145_000, 260_000]);
    // A kept row keeps its first decision, though the rows it was judged against are gone.
    expect(await judgeOn(spend, 'C-1', 'o-3', 145_000, 1)).toEqual({ admitted: true, spentBefore: 2 });
  });

  it('explains a failure without the password, and records nothing', async () => {
    const parsed = new URL(db.url);
    parsed.password = 'not-the-password-x9';
    const spend = new PostgresSpendLimit(anotherPool(parsed.toString()));
    const error = await judgeOn(spend, 'C-1', 'o-1', 0, 10).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PostgresAdapterError);
    expect((error as PostgresAdapterError).reason).toBe('authentication');
    expect((error as Error).message).toMatch(/^PostgreSQL: .* failed: authentication failed for user /);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('not-the-password-x9');
    expect((error as Error).message).not.toContain(decodeURIComponent(new URL(db.url).password));
    expect(await rowsOf('C-1')).toEqual([]);
  });
});
