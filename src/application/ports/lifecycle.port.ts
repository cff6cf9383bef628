/**
 * What a command needs of an adapter that holds connections or must be prepared (a Kafka client,
 * an object-store agent, a database pool, a directory): to open it before work begins, to ask
 * whether it can serve, and to let it go so the process can end by itself. It exists so that a
 * command, a supervisor or /readyz can do all three for whatever adapters the composition root
 * chose, by asking this port instead of which class it was given.
 *
 * Adapters that open lazily (a Kafka producer on its first publish) still do; start() opens them
 * early, so a wrong address or password fails the start instead of the first order.
 */
export interface LifecyclePort {
  /** Opens connections, creates a directory…; idempotent, also when called concurrently. */
  start(): Promise<void>;
  /**
   * Resolves when the adapter can serve now; rejects when it cannot, or once it is closed. The
   * reason's message is shown as is on /readyz, which is typically unauthenticated: it names what
   * is wrong (a host, a bucket, a user) and never a credential.
   */
  ready(): Promise<void>;
  /**
   * Releases everything it holds, so that nothing keeps the process alive; idempotent, and safe
   * when start() was never called (adapters that open lazily may be open all the same).
   */
  close(): Promise<void>;
  /**
   * Optional: a proof more thorough than ready(), at a cost a probe every few seconds should not
   * pay; an object store writes and deletes a probe, which proves the credentials may write (a
   * HEAD cannot tell wrong keys from missing permissions). `orderflow check` runs it where it
   * exists, and ready() where it does not.
   */
  verify?(): Promise<void>;
}

/**
 * One thing the process needs before it can take traffic (the archive reachable, the consumer in
 * its group…). `check` resolves when ready and rejects with the reason when not; the reason is
 * served on /readyz, so it follows LifecyclePort.ready's rule: no credentials in it.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/**
 * Whether an adapter has a lifecycle. For the composition root, which receives ports (and the
 * tests' stand-ins for them) whose types do not say so; a command asks the port, never the class.
 */
export const hasLifecycle = (value: unknown): value is LifecyclePort => {
  if (typeof value !== 'object' || value === null) return false;
  const { start, ready, close } = value as Partial<Record<keyof LifecyclePort, unknown>>;
  return typeof start === 'function' && typeof ready === 'function' && typeof close === 'function';
};
