import { PostgresIdempotencyRecords, PostgresOrderIdClaims } from '../../../src/adapters/postgres/postgres-api-requests';
import { describeApiRequestsContract } from '../../contract/api-requests.contract';
import { useMigratedSchema } from '../../support/postgres';

describe('PostgreSQL request stores of the HTTP API', () => {
  const db = useMigratedSchema();
  describeApiRequestsContract('PostgresOrderIdClaims and PostgresIdempotencyRecords', async () => ({
    claims: new PostgresOrderIdClaims(db.pool),
    idempotency: new PostgresIdempotencyRecords(db.pool),
  }));

  it('keeps a claim in one of its three states in the table itself', async () => {
    await expect(
      db.pool.query(`INSERT INTO api_order_claims (order_id, body_sha256, state, token, claimed_at_ms) VALUES ('x', 'y', 'maybe', 't', 0)`),
    ).rejects.toThrow(/api_order_claims_state_check/);
  });
});
