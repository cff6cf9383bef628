import { fromCents, toCents } from './money';

/** One line of an order as the wire carries it: what, how many, at what price each. */
export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
}

/** A business-rule failure of an order: it is well-formed, but the lifecycle refuses it. */
export interface LifecycleReason {
  readonly code: LifecycleReasonCode;
  readonly message: string;
}

/** Stable, like the dead-letter codes: consumers of orders.rejected filter by them. */
export type LifecycleReasonCode =
  | 'ORDER.INVALID_QUANTITY'
  | 'ORDER.INVALID_UNIT_PRICE'
  | 'ORDER.TOTAL_MISMATCH'
  | 'ORDER.SPEND_LIMIT_EXCEEDED';

/** The sum of the lines, to the cent. */
export const linesTotal = (lines: readonly OrderLine[]): number =>
  fromCents(lines.reduce((cents, line) => cents + line.quantity * toCents(line.unitPrice), 0));

/**
 * Every reason the lines make an order unacceptable, all at once, so a producer fixes them in
 * one go. An order without lines (the seed's shape) has nothing to check here: its total is
 * all there is (adr/0014).
 */
export const lineReasons = (lines: readonly OrderLine[] | undefined, total: number): LifecycleReason[] => {
  if (lines === undefined) return [];
  const reasons: LifecycleReason[] = [];
  lines.forEach((line, index) => {
    // Safe integers only: 1e20 is an integer to JavaScript, but no stock count can hold it, and
    // the reservation would refuse it as a RangeError (a transient failure) instead.
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) {
      reasons.push({
        code: 'ORDER.INVALID_QUANTITY',
        message: `Line ${index} (${line.sku}): quantity ${line.quantity} is not a whole number >= 1${line.quantity > Number.MAX_SAFE_INTEGER ? ' and < 2^53' : ''}`,
      });
    }
    if (!Number.isFinite(line.unitPrice) || line.unitPrice < 0) {
      reasons.push({
        code: 'ORDER.INVALID_UNIT_PRICE',
        message: `Line ${index} (${line.sku}): unit price ${line.unitPrice} is not a finite amount >= 0`,
      });
    }
  });
  // A total computed from invalid lines means nothing; report the lines and stop there.
  if (reasons.length > 0) return reasons;
  if (lines.length === 0) {
    return [{ code: 'ORDER.INVALID_QUANTITY', message: 'The order has an empty item list: expected at least one line, or no items field' }];
  }
  const sum = linesTotal(lines);
  if (toCents(sum) !== toCents(total)) {
    reasons.push({ code: 'ORDER.TOTAL_MISMATCH', message: `The lines add up to ${sum.toFixed(2)}, but the total is ${total.toFixed(2)}` });
  }
  return reasons;
};

/** Quantities per SKU, lines naming the same SKU summed; what a reservation or a picklist takes. */
export const quantitiesBySku = (lines: readonly OrderLine[]): { sku: string; quantity: number }[] => {
  const bySku = new Map<string, number>();
  for (const line of lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
  return [...bySku.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
};
