import { toCents } from './money';

export interface SpendDecision {
  readonly admitted: boolean;
  /** What the customer spent in the window before this order, in the currency's major unit. */
  readonly spentBefore: number;
}

interface Entry {
  readonly orderId: string;
  readonly eventTimeMs: number;
  readonly cents: number;
  readonly admitted: boolean;
  /** Kept, not recomputed: once older entries are evicted a recount could give another answer. */
  readonly spentBeforeCents: number;
}

/**
 * A per-customer spend limit over a sliding event-time window: an order is refused when it
 * would take the customer's admitted spend in the window that ends at its own event time
 * (`windowMs` long, inclusive of its end) over `limit`. Refused orders spend nothing.
 *
 * Deterministic: the same orders in the same order give the same decisions, whatever the
 * clock says, and a redelivered order gets its first decision again (it is looked up by id).
 * InMemorySpendLimit runs these rules as they are; PostgresSpendLimit runs the same rules in SQL,
 * so that the state outlives the process (adr/0014).
 *
 * Memory is bounded by event time: entries older than the newest event time seen minus twice
 * the window can no longer matter to any order that is not a full window late, and are
 * dropped (a sweep every quarter window). An order later than that is judged against what is
 * left.
 */
export class SpendWindow {
  private readonly byCustomer = new Map<string, Entry[]>();
  private readonly limitCents: number;
  private newestMs = Number.NEGATIVE_INFINITY;
  private evictedAtMs = Number.NEGATIVE_INFINITY;
  private entries = 0;

  constructor(
    private readonly windowMs: number,
    limit: number,
  ) {
    if (!(windowMs > 0)) throw new RangeError(`A spend window needs a length > 0 ms, got ${windowMs}`);
    if (!(limit >= 0)) throw new RangeError(`A spend limit must be >= 0, got ${limit}`);
    this.limitCents = toCents(limit);
  }

  admit(customer: string, orderId: string, eventTimeMs: number, amount: number): SpendDecision {
    const entries = this.byCustomer.get(customer) ?? [];
    const from = eventTimeMs - this.windowMs;
    let spentCents = 0;
    for (const entry of entries) {
      if (entry.orderId === orderId) return { admitted: entry.admitted, spentBefore: entry.spentBeforeCents / 100 };
      if (entry.admitted && entry.eventTimeMs > from && entry.eventTimeMs <= eventTimeMs) spentCents += entry.cents;
    }
    const cents = toCents(amount);
    const admitted = spentCents + cents <= this.limitCents;
    entries.push({ orderId, eventTimeMs, cents, admitted, spentBeforeCents: spentCents });
    this.byCustomer.set(customer, entries);
    this.entries++;
    if (eventTimeMs > this.newestMs) this.newestMs = eventTimeMs;
    // A sweep visits every customer, so it runs once per quarter window of event time, not per order.
    if (this.newestMs - this.evictedAtMs >= this.windowMs / 4) this.evict();
    return { admitted, spentBefore: spentCents / 100 };
  }

  /** How many orders the window remembers, across customers; for metrics and tests. */
  get size(): number {
    return this.entries;
  }

  private evict(): void {
    this.evictedAtMs = this.newestMs;
    const horizon = this.newestMs - 2 * this.windowMs;
    for (const [customer, entries] of this.byCustomer) {
      if (entries[0] === undefined || entries.every((entry) => entry.eventTimeMs > horizon)) continue;
      const kept = entries.filter((entry) => entry.eventTimeMs > horizon);
      this.entries -= entries.length - kept.length;
      if (kept.length === 0) this.byCustomer.delete(customer);
      else this.byCustomer.set(customer, kept);
    }
  }
}
