/** How a publish bounded by the API's send timeout ended. */
export type BoundedSend = { readonly kind: 'acked' } | { readonly kind: 'timed-out' } | { readonly kind: 'failed'; readonly error: Error };

/**
 * Waits for `send` at most `timeoutMs` (ORDERFLOW_API_SEND_TIMEOUT_MS). Giving up does not cancel
 * it: a frozen broker may still append the record later, which is why a caller treats a timeout
 * and a failure alike, as "maybe written" (adr/0019). A late rejection is swallowed here, never
 * left unhandled.
 */
export const sendWithin = async (send: Promise<void>, timeoutMs: number): Promise<BoundedSend> => {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<BoundedSend>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timed-out' }), timeoutMs);
  });
  const sent = send.then(
    (): BoundedSend => ({ kind: 'acked' }),
    (error: unknown): BoundedSend => ({ kind: 'failed', error: error instanceof Error ? error : new Error(String(error)) }),
  );
  try {
    return await Promise.race([sent, timedOut]);
  } finally {
    clearTimeout(timer);
  }
};
