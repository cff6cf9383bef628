import { randomUUID } from 'node:crypto';
import { IdempotencyRecordsPort, IdempotencyStart, IdempotencyStartRequest } from '../../application/ports/idempotency-records.port';
import { ClaimOutcome, ClaimRequest, ClaimState, OrderIdClaimsPort } from '../../application/ports/order-id-claims.port';

interface Claim {
  bodySha256: string;
  state: ClaimState;
  token: string;
  claimedAtMs: number;
}

/**
 * Order id claims in memory, for the embedded default and the unit tests. Each call runs to
 * completion without awaiting (one event loop), which makes claim() atomic; the claims end with
 * the process, as the in-memory bus and view they go with do.
 */
export class InMemoryOrderIdClaims implements OrderIdClaimsPort {
  private readonly claims = new Map<string, Claim>();

  async claim({ orderId, bodySha256, nowMs, inFlightStaleBeforeMs }: ClaimRequest): Promise<ClaimOutcome> {
    const existing = this.claims.get(orderId);
    const takeOver =
      existing !== undefined &&
      existing.bodySha256 === bodySha256 &&
      (existing.state === 'uncertain' || (existing.state === 'in-flight' && existing.claimedAtMs < inFlightStaleBeforeMs));
    if (existing !== undefined && !takeOver) return { kind: 'taken', state: existing.state };
    const token = randomUUID();
    this.claims.set(orderId, { bodySha256, state: 'in-flight', token, claimedAtMs: nowMs });
    return { kind: 'claimed', token, tookOver: existing !== undefined };
  }

  async settle(orderId: string, token: string, state: 'published' | 'uncertain'): Promise<void> {
    const claim = this.claims.get(orderId);
    if (claim !== undefined && claim.token === token && claim.state === 'in-flight') claim.state = state;
  }

  async prune(beforeMs: number): Promise<number> {
    let pruned = 0;
    for (const [orderId, claim] of this.claims) {
      if (claim.claimedAtMs < beforeMs) {
        this.claims.delete(orderId);
        pruned++;
      }
    }
    return pruned;
  }
}

interface IdempotencyRecord {
  fingerprint: string;
  token: string;
  startedAtMs: number;
  answer?: string;
}

/** Idempotency records in memory; atomic as InMemoryOrderIdClaims is, and gone with the process. */
export class InMemoryIdempotencyRecords implements IdempotencyRecordsPort {
  private readonly records = new Map<string, IdempotencyRecord>();

  async start({ key, fingerprint, nowMs, expiredBeforeMs, inProgressStaleBeforeMs }: IdempotencyStartRequest): Promise<IdempotencyStart> {
    const existing = this.records.get(key);
    const replace =
      existing === undefined ||
      existing.startedAtMs < expiredBeforeMs ||
      (existing.answer === undefined && existing.fingerprint === fingerprint && existing.startedAtMs < inProgressStaleBeforeMs);
    if (!replace) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      return existing.answer === undefined ? { kind: 'in-progress' } : { kind: 'completed', answer: existing.answer };
    }
    const token = randomUUID();
    this.records.set(key, { fingerprint, token, startedAtMs: nowMs });
    return { kind: 'started', token };
  }

  async complete(key: string, token: string, answer: string): Promise<void> {
    const record = this.records.get(key);
    if (record !== undefined && record.token === token && record.answer === undefined) record.answer = answer;
  }

  async abandon(key: string, token: string): Promise<void> {
    const record = this.records.get(key);
    if (record !== undefined && record.token === token && record.answer === undefined) this.records.delete(key);
  }

  async prune(beforeMs: number): Promise<number> {
    let pruned = 0;
    for (const [key, record] of this.records) {
      if (record.startedAtMs < beforeMs) {
        this.records.delete(key);
        pruned++;
      }
    }
    return pruned;
  }
}
