import { ReservationOutcome, Shortage, StockLine } from './ports/inventory.port';

// The reservation rules both inventories (in memory and PostgreSQL) apply, so they cannot drift.

/**
 * One line per SKU, quantities summed, in SKU order: how both inventories see a request, and
 * the order in which the PostgreSQL one locks rows.
 */
export const mergeStockLines = (lines: readonly StockLine[]): StockLine[] => {
  const sums = new Map<string, number>();
  for (const line of lines) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) {
      throw new RangeError(`stock line for SKU ${line.sku}: quantity must be a whole number >= 1, got ${line.quantity}`);
    }
    sums.set(line.sku, (sums.get(line.sku) ?? 0) + line.quantity);
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
};

/** All or nothing: reserved if every (merged) line fits what is available, else every shortage. */
export const decideReservation = (lines: readonly StockLine[], available: ReadonlyMap<string, number>): ReservationOutcome => {
  const shortages: Shortage[] = lines
    .map((line) => ({ sku: line.sku, requested: line.quantity, available: available.get(line.sku) ?? 0 }))
    .filter((shortage) => shortage.requested > shortage.available);
  return shortages.length > 0 ? { status: 'insufficient', shortages } : { status: 'reserved', lines };
};

/** Stock quantities are whole numbers >= 0; a bad one fails the whole seed before anything is added. */
export const assertStockQuantities = (stock: ReadonlyMap<string, number>): void => {
  const bad = [...stock].filter(([, quantity]) => !Number.isSafeInteger(quantity) || quantity < 0 || quantity > 2_147_483_647);
  if (bad.length > 0) {
    throw new RangeError(`stock quantities must be whole numbers from 0 to 2147483647: ${bad.map(([sku, q]) => `${sku}=${q}`).join(', ')}`);
  }
};
