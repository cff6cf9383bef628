import { randomUUID } from 'node:crypto';
import { IdempotencyRecordsPort } from '../../src/application/ports/idempotency-records.port';
import { OrderIdClaimsPort } from '../../src/application/ports/order-id-claims.port';

export interface ApiRequestsFixture {
  readonly claims: OrderIdClaimsPort;
  readonly idempotency: IdempotencyRecordsPort;
}

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const HOUR = 3_600_000;
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

/**
 * The contract of the HTTP API's request stores (in memory, PostgreSQL): order id claims and
 * idempotency records, atomic per id and per key. Ids and keys are unique to each test, so a
 * fixture may share one database; pruning is only asserted on times no other test uses.
 */
export const describeApiRequestsContract = (name: string, makeFixture: () => Promise<ApiRequestsFixture>): void => {
  describe(`${name} honours the API requests contract`, () => {
    let id: (n: string) => string;
    let fixture: ApiRequestsFixture;

    beforeEach(async () => {
      const run = randomUUID().slice(0, 8);
      id = (n) => `${run}-${n}`;
      fixture = await makeFixture();
    });

    const claim = (orderId: string, bodySha256 = SHA_A, nowMs = T0, inFlightStaleBeforeMs = T0 - HOUR) =>
      fixture.claims.claim({ orderId, bodySha256, nowMs, inFlightStaleBeforeMs });

    describe('order id claims', () => {
      it('gives an id to one request at a time, and keeps it while in flight and once published', async () => {
        const first = await claim(id('1'));
        expect(first).toEqual({ kind: 'claimed', token: expect.any(String), tookOver: false });
        expect(await claim(id('1'))).toEqual({ kind: 'taken', state: 'in-flight' });
        if (first.kind !== 'claimed') return;
        await fixture.claims.settle(id('1'), first.token, 'published');
        expect(await claim(id('1'))).toEqual({ kind: 'taken', state: 'published' });
        expect(await claim(id('1'), SHA_B)).toEqual({ kind: 'taken', state: 'published' });
      });

      it('lets only the same body take an uncertain claim over, with a new token', async () => {
        const first = await claim(id('1'));
        if (first.kind !== 'claimed') throw new Error('expected a claim');
        await fixture.claims.settle(id('1'), first.token, 'uncertain');
        expect(await claim(id('1'), SHA_B)).toEqual({ kind: 'taken', state: 'uncertain' });
        const again = await claim(id('1'), SHA_A, T0 + 1);
        // Taken over: the earlier request may have written the order after all.
        expect(again).toEqual({ kind: 'claimed', token: expect.any(String), tookOver: true });
        if (again.kind !== 'claimed') return;
        expect(again.token).not.toBe(first.token);
        expect(await claim(id('1'))).toEqual({ kind: 'taken', state: 'in-flight' });
      });

      it('counts a stale in-flight claim as uncertain, and ignores the settling of a request that lost its claim', async () => {
        const first = await claim(id('1'), SHA_A, T0);
        if (first.kind !== 'claimed') throw new Error('expected a claim');
        expect(await claim(id('1'), SHA_B, T0 + 10, T0 + 1)).toEqual({ kind: 'taken', state: 'in-flight' });
        const takeover = await claim(id('1'), SHA_A, T0 + 10, T0 + 1);
        expect(takeover).toEqual({ kind: 'claimed', token: expect.any(String), tookOver: true });
        if (takeover.kind !== 'claimed') return;
        await fixture.claims.settle(id('1'), first.token, 'uncertain');
        expect(await claim(id('1'), SHA_A, T0 + 11, T0)).toEqual({ kind: 'taken', state: 'in-flight' });
        await fixture.claims.settle(id('1'), takeover.token, 'published');
        expect(await claim(id('1'), SHA_A, T0 + 12, T0 + 12)).toEqual({ kind: 'taken', state: 'published' });
      });

      it('claims an id once among many concurrent requests', async () => {
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => claim(id('race'))));
        expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
      });

      it('forgets claims made before the horizon, and only those', async () => {
        const old = T0 - 100 * HOUR;
        await claim(id('old'), SHA_A, old);
        await claim(id('new'), SHA_A, old + 2);
        expect(await fixture.claims.prune(old + 1)).toBeGreaterThanOrEqual(1);
        expect((await claim(id('old'), SHA_B, old + 3)).kind).toBe('claimed');
        expect(await claim(id('new'), SHA_B, old + 3)).toEqual({ kind: 'taken', state: 'in-flight' });
      });
    });

    describe('idempotency records', () => {
      const start = (key: string, fingerprint = SHA_A, nowMs = T0, expiredBeforeMs = T0 - 24 * HOUR, inProgressStaleBeforeMs = T0 - HOUR) =>
        fixture.idempotency.start({ key, fingerprint, nowMs, expiredBeforeMs, inProgressStaleBeforeMs });

      it('answers a repeated request with the first final answer, and a different one under the same key with mismatch', async () => {
        const first = await start(id('k'));
        expect(first.kind).toBe('started');
        if (first.kind !== 'started') return;
        expect(await start(id('k'))).toEqual({ kind: 'in-progress' });
        expect(await start(id('k'), SHA_B)).toEqual({ kind: 'mismatch' });
        await fixture.idempotency.complete(id('k'), first.token, '{"status":201}', T0 + 5);
        expect(await start(id('k'))).toEqual({ kind: 'completed', answer: '{"status":201}' });
        expect(await start(id('k'), SHA_B)).toEqual({ kind: 'mismatch' });
      });

      it('frees an abandoned key for the retry; a stale holder can neither complete nor abandon it', async () => {
        const first = await start(id('k'));
        if (first.kind !== 'started') throw new Error('expected a start');
        await fixture.idempotency.abandon(id('k'), first.token);
        const retry = await start(id('k'), SHA_A, T0 + 1);
        expect(retry.kind).toBe('started');
        if (retry.kind !== 'started') return;
        await fixture.idempotency.complete(id('k'), first.token, 'stale', T0 + 2);
        await fixture.idempotency.abandon(id('k'), first.token);
        expect(await start(id('k'))).toEqual({ kind: 'in-progress' });
        await fixture.idempotency.complete(id('k'), retry.token, 'final', T0 + 3);
        expect(await start(id('k'))).toEqual({ kind: 'completed', answer: 'final' });
      });

      it('takes over a stale in-progress record of the same request, never one of another', async () => {
        await start(id('k'), SHA_A, T0);
        expect(await start(id('k'), SHA_B, T0 + 10, T0 - HOUR, T0 + 1)).toEqual({ kind: 'mismatch' });
        expect((await start(id('k'), SHA_A, T0 + 10, T0 - HOUR, T0 + 1)).kind).toBe('started');
      });

      it('treats an expired record as absent, whatever it held', async () => {
        const first = await start(id('k'), SHA_A, T0);
        if (first.kind !== 'started') throw new Error('expected a start');
        await fixture.idempotency.complete(id('k'), first.token, 'old', T0);
        const later = T0 + 25 * HOUR;
        expect((await start(id('k'), SHA_B, later, later - 24 * HOUR)).kind).toBe('started');
      });

      it('starts a key once among many concurrent requests', async () => {
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => start(id('race'))));
        expect(outcomes.filter((o) => o.kind === 'started')).toHaveLength(1);
      });

      it('forgets records started before the horizon, and only those', async () => {
        const old = T0 - 200 * HOUR;
        const a = await start(id('old'), SHA_A, old, old - 24 * HOUR);
        await start(id('new'), SHA_A, old + 2, old - 24 * HOUR);
        if (a.kind === 'started') await fixture.idempotency.complete(id('old'), a.token, 'x', old);
        expect(await fixture.idempotency.prune(old + 1)).toBeGreaterThanOrEqual(1);
        expect((await start(id('old'), SHA_B, old + 3, old - 24 * HOUR)).kind).toBe('started');
        expect(await start(id('new'), SHA_A, old + 3, old - 24 * HOUR, old - HOUR)).toEqual({ kind: 'in-progress' });
      });
    });
  });
};
