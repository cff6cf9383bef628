/**
 * The first final answer to each `Idempotency-Key` (adr/0019): a client that retries a POST with
 * the same key and body gets that answer again instead of a second order. PostgreSQL when
 * DATABASE_URL is set, in memory otherwise; both pass tests/contract/api-requests.contract.ts.
 */

export interface IdempotencyStartRequest {
  /** The key as the client sent it, scoped by the caller (e.g. with who is asking). */
  readonly key: string;
  /** SHA-256 of what the request asks (method, route, body), hex: a different one under the same key is a client's bug. */
  readonly fingerprint: string;
  readonly nowMs: number;
  /** A record started before this has expired (24 h): it counts as absent, and is replaced. */
  readonly expiredBeforeMs: number;
  /** A record still in progress that started before this was left by a request that died: it counts as abandoned. */
  readonly inProgressStaleBeforeMs: number;
}

export type IdempotencyStart =
  /** The key is this request's: answer, then complete() (a final answer) or abandon() (none: the client should retry). */
  | { readonly kind: 'started'; readonly token: string }
  /** The same request was answered finally before: `answer` is what complete() stored. */
  | { readonly kind: 'completed'; readonly answer: string }
  /** The same request is being answered right now, by this instance or another. */
  | { readonly kind: 'in-progress' }
  /** The key was used for a different request. */
  | { readonly kind: 'mismatch' };

export interface IdempotencyRecordsPort {
  /** Atomically, also between processes on one database. */
  start(request: IdempotencyStartRequest): Promise<IdempotencyStart>;
  /** Stores the final answer (opaque text, the caller's serialisation). Only the holder's token counts. */
  complete(key: string, token: string, answer: string, nowMs: number): Promise<void>;
  /** The request ended without a final answer (503): the key is free for the retry. Only the holder's token counts. */
  abandon(key: string, token: string): Promise<void>;
  /** Forgets records started before `beforeMs`; returns how many. */
  prune(beforeMs: number): Promise<number>;
}
