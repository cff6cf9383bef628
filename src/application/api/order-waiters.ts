import { isTerminal, OrderStatus } from '../../domain/lifecycle/order-status';
import { OrderView, OrderViewQueries } from '../ports/order-view.port';

export type WaitOutcome =
  /** The order reached the status (now or earlier: its history has it) or a terminal one. */
  | { readonly kind: 'reached'; readonly view: OrderView }
  /** The timeout passed first; `view` is the order as it is then, absent when the view still does not know it. */
  | { readonly kind: 'timed-out'; readonly view?: OrderView }
  /** ORDERFLOW_API_MAX_WAITERS are waiting already. */
  | { readonly kind: 'full' }
  /** The caller went away (the client disconnected) or the waiters were closed (shutdown). */
  | { readonly kind: 'aborted' };

export interface WaitRequest {
  readonly orderId: string;
  readonly until: OrderStatus;
  readonly timeoutMs: number;
  /** Aborted when the client disconnects: the waiter is freed at once. */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly request: WaitRequest;
  readonly settle: (outcome: WaitOutcome) => void;
  /** A re-read is running; `again` asks for one more after it (a change came meanwhile). */
  reading: boolean;
  again: boolean;
}

/** Whether `view` is as far as the waiter wants: the status itself, a terminal one, or past it (the history has it). */
const reached = (view: OrderView, until: OrderStatus): boolean =>
  view.status === until || isTerminal(view.status) || view.history.some((entry) => entry.status === until);

/**
 * GET /orders/{id}?wait=: long-polls on the view (adr/0019). One onChange subscription serves
 * every waiter; a notification only says "this order changed", so a waiter re-reads the row and
 * decides on what it reads (notifications may be late or coalesced). A waiter is registered
 * before its first read, so a change between the read and the registration is never missed.
 *
 * Bounded: at most `maxWaiters` at once (the next is refused, `full`: a 503), and each is freed
 * on its timeout, on its signal (the client disconnected) and on close().
 */
export class OrderWaiters {
  private readonly byOrder = new Map<string, Set<Waiter>>();
  private count = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly view: Pick<OrderViewQueries, 'get' | 'onChange'>,
    private readonly maxWaiters: number,
  ) {}

  /** Waiters now; for metrics and tests. */
  get size(): number {
    return this.count;
  }

  wait(request: WaitRequest): Promise<WaitOutcome> {
    if (this.closed || request.signal?.aborted === true) return Promise.resolve({ kind: 'aborted' });
    if (this.count >= this.maxWaiters) return Promise.resolve({ kind: 'full' });
    this.unsubscribe ??= this.view.onChange((orderId) => this.changed(orderId));
    return new Promise<WaitOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: WaitOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        this.remove(waiter);
        resolve(outcome);
      };
      const waiter: Waiter = { request, settle: finish, reading: false, again: false };
      const onAbort = (): void => finish({ kind: 'aborted' });
      const timer = setTimeout(() => {
        // One last read, so the answer says where the order is; it cannot hold the waiter longer than that read.
        this.view.get(request.orderId).then(
          (view) => finish(view !== undefined && reached(view, request.until) ? { kind: 'reached', view } : { kind: 'timed-out', ...(view === undefined ? {} : { view }) }),
          () => finish({ kind: 'timed-out' }),
        );
      }, request.timeoutMs);
      request.signal?.addEventListener('abort', onAbort, { once: true });
      this.add(waiter);
      this.read(waiter);
    });
  }

  /** Frees every waiter (`aborted`) and stops listening: for the server's shutdown. */
  close(): void {
    this.closed = true;
    for (const waiters of [...this.byOrder.values()]) for (const waiter of [...waiters]) waiter.settle({ kind: 'aborted' });
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private changed(orderId: string): void {
    for (const waiter of this.byOrder.get(orderId) ?? []) this.read(waiter);
  }

  private read(waiter: Waiter): void {
    if (waiter.reading) {
      waiter.again = true;
      return;
    }
    waiter.reading = true;
    waiter.again = false;
    this.view.get(waiter.request.orderId).then(
      (view) => {
        waiter.reading = false;
        if (view !== undefined && reached(view, waiter.request.until)) waiter.settle({ kind: 'reached', view });
        else if (waiter.again) this.read(waiter);
      },
      () => {
        // A failed read is retried by the next change, or answered by the timeout.
        waiter.reading = false;
        if (waiter.again) this.read(waiter);
      },
    );
  }

  private add(waiter: Waiter): void {
    const waiters = this.byOrder.get(waiter.request.orderId) ?? new Set<Waiter>();
    waiters.add(waiter);
    this.byOrder.set(waiter.request.orderId, waiters);
    this.count++;
  }

  private remove(waiter: Waiter): void {
    const waiters = this.byOrder.get(waiter.request.orderId);
    if (waiters?.delete(waiter) !== true) return;
    this.count--;
    if (waiters.size === 0) this.byOrder.delete(waiter.request.orderId);
  }
}
