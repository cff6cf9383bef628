/**
 * Order ids claimed by POST /orders before their record goes to the orders topic (adr/0019). The
 * order view knows an order only once the stages have carried it there; a claim covers the time
 * in between, so that two requests for one id, on one instance or on several, never both publish.
 * PostgreSQL when DATABASE_URL is set, in memory otherwise; both pass
 * tests/contract/api-requests.contract.ts.
 */

/**
 * - `in-flight`: a request is publishing the order now.
 * - `published`: the broker acknowledged the record.
 * - `uncertain`: the send failed or timed out. A frozen broker may still append the record after
 *   we gave up, so the id is neither free nor known to be taken: only the same body may try again.
 */
export type ClaimState = 'in-flight' | 'published' | 'uncertain';

export interface ClaimRequest {
  readonly orderId: string;
  /** SHA-256 of the request's body, hex: what "the same body" means. */
  readonly bodySha256: string;
  readonly nowMs: number;
  /**
   * An in-flight claim made before this counts as uncertain: its request cannot still be running
   * (its send timeout is far shorter), so its instance died before it could settle the claim.
   */
  readonly inFlightStaleBeforeMs: number;
}

export type ClaimOutcome =
  /**
   * The id is ours until settled: no claim existed (`tookOver` false), or an uncertain (or stale)
   * claim of the same body was taken over (`tookOver` true: an earlier request may have written it).
   */
  | { readonly kind: 'claimed'; readonly token: string; readonly tookOver: boolean }
  /** Another request holds it, published it, or left it uncertain with another body. */
  | { readonly kind: 'taken'; readonly state: ClaimState };

export interface OrderIdClaimsPort {
  /** Atomically, also between processes on one database. */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /**
   * Ends the claim's in-flight state. Only the holder's token settles it: a request that lost
   * its claim to a takeover (it was stale) changes nothing.
   */
  settle(orderId: string, token: string, state: 'published' | 'uncertain'): Promise<void>;
  /** Forgets claims made before `beforeMs` (the view knows every published order by then); returns how many. */
  prune(beforeMs: number): Promise<number>;
}
