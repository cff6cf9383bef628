/** A quantity of one SKU, as a reservation takes it. */
export interface StockLine {
  readonly sku: string;
  /** A whole number >= 1. */
  readonly quantity: number;
}

export interface Shortage {
  readonly sku: string;
  readonly requested: number;
  readonly available: number;
}

export type ReservationOutcome =
  | { readonly status: 'reserved'; readonly lines: readonly StockLine[] }
  | { readonly status: 'insufficient'; readonly shortages: readonly Shortage[] };

export interface ReservationRequest {
  readonly orderId: string;
  /** Lines naming the same SKU twice are reserved as their sum. An empty list reserves nothing, successfully. */
  readonly lines: readonly StockLine[];
}

/**
 * Stock, as the inventory stage needs it.
 *
 * `reserve` takes every line or none, atomically, and is idempotent by order id: the first call
 * for an order decides, and every later call (a redelivery, a restart after a crash) returns that
 * same outcome and changes no stock. The stock change and the record of the outcome are one
 * transaction, so a crash between them is impossible. A SKU the inventory has never heard of has
 * no stock: an order for it is insufficient, not an error.
 *
 * A rejected promise is a transient failure (the database is unreachable, a serialisation
 * conflict): nothing was reserved, and the caller retries.
 */
export interface InventoryPort {
  reserve(request: ReservationRequest): Promise<ReservationOutcome>;
  /**
   * Gives SKUs the inventory does not know yet their starting stock; SKUs it knows keep what
   * they have, so a restart with the same stock file does not refill what orders took.
   * Resolves to the number of SKUs added.
   */
  seedMissing(stock: ReadonlyMap<string, number>): Promise<number>;
  /** The available quantity of each SKU (0 for one never seeded), for checks, summaries and tests. */
  available(skus: readonly string[]): Promise<ReadonlyMap<string, number>>;
}
