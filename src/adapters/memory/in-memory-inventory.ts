import { InventoryPort, ReservationOutcome, ReservationRequest } from '../../application/ports/inventory.port';
import { assertStockQuantities, decideReservation, mergeStockLines } from '../../application/stock-reservation';

/**
 * Stock in memory, for the embedded demo and the unit tests: the same rules as PostgresInventory
 * (the same contract suite). Each call runs to completion before the next starts (one event loop),
 * which is what makes a reservation and its record atomic here.
 */
export class InMemoryInventory implements InventoryPort {
  private readonly stock = new Map<string, number>();
  private readonly reservations = new Map<string, ReservationOutcome>();

  async reserve(request: ReservationRequest): Promise<ReservationOutcome> {
    const lines = mergeStockLines(request.lines);
    const recorded = this.reservations.get(request.orderId);
    if (recorded !== undefined) return recorded;
    const outcome = decideReservation(lines, this.stock);
    if (outcome.status === 'reserved') {
      for (const line of lines) this.stock.set(line.sku, (this.stock.get(line.sku) ?? 0) - line.quantity);
    }
    this.reservations.set(request.orderId, outcome);
    return outcome;
  }

  async seedMissing(stock: ReadonlyMap<string, number>): Promise<number> {
    assertStockQuantities(stock);
    let added = 0;
    for (const [sku, quantity] of stock) {
      if (this.stock.has(sku)) continue;
      this.stock.set(sku, quantity);
      added += 1;
    }
    return added;
  }

  async available(skus: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return new Map(skus.map((sku) => [sku, this.stock.get(sku) ?? 0]));
  }
}
