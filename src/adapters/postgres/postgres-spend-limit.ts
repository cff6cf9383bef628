import type { Pool } from 'pg';
import { SpendCandidate, SpendJudgement, SpendLimitPort } from '../../application/ports/spend-limit.port';
import { assertSpendCandidate, assertSpendLimitSettings, DEFAULT_SPEND_LIMIT_SETTINGS, SpendLimitSettings } from '../../application/spend-limit';
import { toCents } from '../../domain/lifecycle/money';
import { explainPostgresError } from './postgres-connection';
import { inTransaction } from './postgres-transaction';

/**
 * The keys of this adapter's transaction-level advisory locks, in the two-integer form: its own
 * class, so they never meet node-pg-migrate's lock (one bigint) or another adapter's.
 */
const CUSTOMER_LOCK_CLASS = 0x5350_4e44; // "SPND"
const PRUNE_LOCK_CLASS = 0x5350_5052; // "SPPR"

interface JudgementRow {
  admitted: boolean;
  /** bigint: pg hands it over as text. */
  spent_before_cents: string;
}

/**
 * In one statement, after the customer's lock is held: the first decision on the order if there
 * is one; otherwise the customer's admitted spend in (t − window, t], the decision SpendWindow
 * makes on it (admitted when spend + amount <= limit, all in cents), recorded and returned.
 */
const JUDGE = `
  WITH first AS (
    SELECT admitted, spent_before_cents FROM spend_judgements WHERE customer = $1 AND order_id = $2
  ), spent AS (
    SELECT coalesce(sum(cents), 0)::bigint AS cents FROM spend_judgements
     WHERE customer = $1 AND admitted AND event_time_ms > $3::bigint - $5::bigint AND event_time_ms <= $3::bigint
  ), judged AS (
    INSERT INTO spend_judgements (customer, order_id, event_time_ms, cents, admitted, spent_before_cents)
    SELECT $1, $2, $3::bigint, $4::bigint, spent.cents + $4::bigint <= $6::bigint, spent.cents FROM spent
     WHERE NOT EXISTS (SELECT 1 FROM first)
    RETURNING admitted, spent_before_cents
  )
  SELECT admitted, spent_before_cents FROM first
  UNION ALL
  SELECT admitted, spent_before_cents FROM judged`;

/**
 * The spend limit in PostgreSQL (table `spend_judgements`, see migrations/): the rules of
 * SpendWindow, with the state where a restart, a second process or the next member after a
 * rebalance finds it (adr/0014).
 *
 * A judgement is one READ COMMITTED transaction. It first takes a transaction-level advisory lock
 * on the customer (a hash of the id; two customers sharing a hash only wait for each other), so
 * calls for one customer, from any process, run one after another; READ COMMITTED gives the
 * statement after the lock a snapshot that includes everything the previous holder committed.
 * Then one statement answers the order's first decision if it has one, or sums the window,
 * decides and inserts the decision. Nothing is recorded unless the whole transaction commits.
 *
 * Memory is bounded as SpendWindow bounds it: rows at or more than two windows behind the newest
 * event time in the table can no longer count for any order that is not that late, and are
 * deleted. Not on every call: an instance prunes on its first call and then whenever the event
 * times it judges have moved a quarter window on, before the judgement (so a failed prune fails
 * the call with nothing recorded, as the port promises), and skips it when another process holds
 * the prune lock. A redelivery older than the horizon is judged again, against what is left.
 *
 * Every instance on one database must use the same window length: a shorter one prunes rows
 * that a longer one still counts.
 */
export class PostgresSpendLimit implements SpendLimitPort {
  private readonly windowMs: number;
  private readonly limitCents: number;
  /** The event time this instance last pruned at. */
  private prunedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pool: Pool,
    settings: SpendLimitSettings = DEFAULT_SPEND_LIMIT_SETTINGS,
  ) {
    assertSpendLimitSettings(settings);
    this.windowMs = settings.windowMs;
    this.limitCents = toCents(settings.limit);
  }

  async judge(candidate: SpendCandidate): Promise<SpendJudgement> {
    assertSpendCandidate(candidate);
    await this.pruneIfDue(candidate.eventTimeMs);
    const { customer, orderId, eventTimeMs, amount } = candidate;
    try {
      const row = await inTransaction(this.pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CUSTOMER_LOCK_CLASS, customer]);
        const result = await client.query<JudgementRow>(JUDGE, [customer, orderId, eventTimeMs, toCents(amount), this.windowMs, this.limitCents]);
        return result.rows[0];
      });
      if (row === undefined) throw new Error(`judging order ${orderId} returned no decision`);
      return { admitted: row.admitted, spentBefore: Number(row.spent_before_cents) / 100 };
    } catch (error) {
      throw explainPostgresError(error, `judging the spend of order ${orderId}`, this.url);
    }
  }

  /**
   * Deletes what no window can count any more; resolves to the number of rows deleted (0 when
   * another process was pruning). `judge` calls it when due; public for operators and tests.
   */
  async prune(): Promise<number> {
    try {
      return await inTransaction(this.pool, async (client) => {
        const lock = await client.query<{ held: boolean }>('SELECT pg_try_advisory_xact_lock($1, 0) AS held', [PRUNE_LOCK_CLASS]);
        if (lock.rows[0]?.held !== true) return 0;
        const deleted = await client.query(
          `DELETE FROM spend_judgements
            WHERE event_time_ms <= (SELECT max(event_time_ms) FROM spend_judgements) - 2 * $1::bigint`,
          [this.windowMs],
        );
        return deleted.rowCount ?? 0;
      });
    } catch (error) {
      throw explainPostgresError(error, 'pruning the spend window', this.url);
    }
  }

  private async pruneIfDue(eventTimeMs: number): Promise<void> {
    if (eventTimeMs - this.prunedAtMs < this.windowMs / 4) return;
    const previous = this.prunedAtMs;
    // Set before the await: of concurrent calls, one prunes.
    this.prunedAtMs = eventTimeMs;
    try {
      await this.prune();
    } catch (error) {
      this.prunedAtMs = previous;
      throw error;
    }
  }

  private get url(): string {
    return this.pool.options.connectionString ?? '';
  }
}
