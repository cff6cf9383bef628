import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { IdempotencyRecordsPort, IdempotencyStart, IdempotencyStartRequest } from '../../application/ports/idempotency-records.port';
import { ClaimOutcome, ClaimRequest, ClaimState, OrderIdClaimsPort } from '../../application/ports/order-id-claims.port';

/**
 * A new claim, or the takeover of an uncertain (or stale in-flight) claim of the same body, in one
 * statement: the row lock of ON CONFLICT makes it atomic between processes. The row comes back
 * only when this request holds the claim; `xmax` is 0 on a row the INSERT wrote, the id of the
 * updating transaction on one it took over.
 */
const CLAIM = `
  INSERT INTO api_order_claims (order_id, body_sha256, state, token, claimed_at_ms) VALUES ($1, $2, 'in-flight', $3, $4)
  ON CONFLICT (order_id) DO UPDATE SET state = 'in-flight', token = EXCLUDED.token, claimed_at_ms = EXCLUDED.claimed_at_ms
   WHERE api_order_claims.body_sha256 = EXCLUDED.body_sha256
     AND (api_order_claims.state = 'uncertain' OR (api_order_claims.state = 'in-flight' AND api_order_claims.claimed_at_ms < $5))
  RETURNING token, xmax::text <> '0' AS took_over`;

/** Order id claims in PostgreSQL (table `api_order_claims`): shared by every API instance on the database. */
export class PostgresOrderIdClaims implements OrderIdClaimsPort {
  constructor(private readonly pool: Pool) {}

  async claim({ orderId, bodySha256, nowMs, inFlightStaleBeforeMs }: ClaimRequest): Promise<ClaimOutcome> {
    const token = randomUUID();
    const claimed = await this.pool.query<{ token: string; took_over: boolean }>(CLAIM, [orderId, bodySha256, token, nowMs, inFlightStaleBeforeMs]);
    const row = claimed.rows[0];
    if (row?.token === token) return { kind: 'claimed', token, tookOver: row.took_over };
    const existing = await this.pool.query<{ state: ClaimState }>('SELECT state FROM api_order_claims WHERE order_id = $1', [orderId]);
    // Pruned in between (24 h old): someone held it, which is what the caller needs to hear.
    return { kind: 'taken', state: existing.rows[0]?.state ?? 'in-flight' };
  }

  async settle(orderId: string, token: string, state: 'published' | 'uncertain'): Promise<void> {
    await this.pool.query(`UPDATE api_order_claims SET state = $3 WHERE order_id = $1 AND token = $2 AND state = 'in-flight'`, [orderId, token, state]);
  }

  async prune(beforeMs: number): Promise<number> {
    return (await this.pool.query('DELETE FROM api_order_claims WHERE claimed_at_ms < $1', [beforeMs])).rowCount ?? 0;
  }
}

/**
 * A new record, or the replacement of an expired one or of a stale in-progress one of the same
 * request, in one statement, as CLAIM.
 */
const START = `
  INSERT INTO api_idempotency_records (idempotency_key, fingerprint, token, started_at_ms) VALUES ($1, $2, $3, $4)
  ON CONFLICT (idempotency_key) DO UPDATE
     SET fingerprint = EXCLUDED.fingerprint, token = EXCLUDED.token, started_at_ms = EXCLUDED.started_at_ms, answer = NULL, completed_at_ms = NULL
   WHERE api_idempotency_records.started_at_ms < $5
      OR (api_idempotency_records.answer IS NULL AND api_idempotency_records.fingerprint = EXCLUDED.fingerprint AND api_idempotency_records.started_at_ms < $6)
  RETURNING token`;

/** Idempotency records in PostgreSQL (table `api_idempotency_records`): a retry may reach any instance. */
export class PostgresIdempotencyRecords implements IdempotencyRecordsPort {
  constructor(private readonly pool: Pool) {}

  async start({ key, fingerprint, nowMs, expiredBeforeMs, inProgressStaleBeforeMs }: IdempotencyStartRequest): Promise<IdempotencyStart> {
    const token = randomUUID();
    const started = await this.pool.query<{ token: string }>(START, [key, fingerprint, token, nowMs, expiredBeforeMs, inProgressStaleBeforeMs]);
    if (started.rows[0]?.token === token) return { kind: 'started', token };
    const existing = await this.pool.query<{ fingerprint: string; answer: string | null }>(
      'SELECT fingerprint, answer FROM api_idempotency_records WHERE idempotency_key = $1',
      [key],
    );
    const row = existing.rows[0];
    if (row === undefined) return { kind: 'in-progress' };
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return row.answer === null ? { kind: 'in-progress' } : { kind: 'completed', answer: row.answer };
  }

  async complete(key: string, token: string, answer: string, nowMs: number): Promise<void> {
    await this.pool.query(
      'UPDATE api_idempotency_records SET answer = $3, completed_at_ms = $4 WHERE idempotency_key = $1 AND token = $2 AND answer IS NULL',
      [key, token, answer, nowMs],
    );
  }

  async abandon(key: string, token: string): Promise<void> {
    await this.pool.query('DELETE FROM api_idempotency_records WHERE idempotency_key = $1 AND token = $2 AND answer IS NULL', [key, token]);
  }

  async prune(beforeMs: number): Promise<number> {
    return (await this.pool.query('DELETE FROM api_idempotency_records WHERE started_at_ms < $1', [beforeMs])).rowCount ?? 0;
  }
}
