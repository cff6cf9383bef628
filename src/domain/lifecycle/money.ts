/**
 * Amounts travel as decimal numbers in the currency's major unit (149.99), as the seed's orders
 * carry them. Arithmetic on them happens in whole cents, so 0.1 + 0.2 never decides whether an
 * order's lines add up to its total.
 */
export const toCents = (amount: number): number => Math.round(amount * 100);

export const fromCents = (cents: number): number => cents / 100;

/** Shipping costs 2 % of the order's total (the seed order service's rule), rounded to the cent. */
export const SHIPPING_RATE = 0.02;

export const shippingCostOf = (total: number): number => fromCents(Math.round(toCents(total) * SHIPPING_RATE));
