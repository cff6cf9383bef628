import type { Pool } from 'pg';
import {
  InventoryPort,
  ReservationOutcome,
  ReservationRequest,
  Shortage,
  StockLine,
} from '../../application/ports/inventory.port';
import { assertStockQuantities, decideReservation, mergeStockLines } from '../../application/stock-reservation';
import { inTransaction } from './postgres-transaction';

interface ReservationRow {
  outcome: 'reserved' | 'insufficient';
  lines: StockLine[];
  shortages: Shortage[];
}

const toOutcome = (row: ReservationRow): ReservationOutcome =>
  row.outcome === 'reserved' ? { status: 'reserved', lines: row.lines } : { status: 'insufficient', shortages: row.shortages };

/**
 * Stock in PostgreSQL (tables `stock` and `reservations`, see migrations/). A reservation is one
 * READ COMMITTED transaction: it locks the order's stock rows in SKU order (so two orders sharing
 * SKUs queue instead of deadlocking), decides on the quantities it then sees, takes them and
 * inserts the order's reservation record. A racing second call for the same order ends at that
 * insert (the primary key makes it wait for the first, then conflict), rolls its stock change
 * back and answers the first call's outcome. See adr/0013.
 */
export class PostgresInventory implements InventoryPort {
  constructor(private readonly pool: Pool) {}

  async reserve(request: ReservationRequest): Promise<ReservationOutcome> {
    const lines = mergeStockLines(request.lines);
    const recorded = await this.recorded(request.orderId);
    if (recorded !== undefined) return recorded;
    const outcome = await inTransaction(this.pool, async (client) => {
      const skus = lines.map((line) => line.sku);
      const locked = await client.query<{ sku: string; available: number }>(
        'SELECT sku, available FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE',
        [skus],
      );
      const available = new Map(locked.rows.map((row) => [row.sku, row.available]));
      const decided = decideReservation(lines, available);
      if (decided.status === 'reserved' && lines.length > 0) {
        await client.query(
          `UPDATE stock SET available = stock.available - taken.quantity, updated_at = now()
             FROM unnest($1::text[], $2::integer[]) AS taken(sku, quantity)
            WHERE stock.sku = taken.sku`,
          [skus, lines.map((line) => line.quantity)],
        );
      }
      const inserted = await client.query(
        `INSERT INTO reservations (order_id, outcome, lines, shortages) VALUES ($1, $2, $3::jsonb, $4::jsonb)
         ON CONFLICT (order_id) DO NOTHING`,
        [
          request.orderId,
          decided.status,
          JSON.stringify(decided.status === 'reserved' ? decided.lines : []),
          JSON.stringify(decided.status === 'insufficient' ? decided.shortages : []),
        ],
      );
      // Another call for this order committed first: undo this one's stock change, answer theirs.
      if (inserted.rowCount === 0) throw new LostRace();
      return decided;
    }).catch(async (error: unknown) => {
      if (!(error instanceof LostRace)) throw error;
      const first = await this.recorded(request.orderId);
      if (first === undefined) throw new Error(`reservation of order ${request.orderId} conflicted, but no record of it exists`);
      return first;
    });
    return outcome;
  }

  async seedMissing(stock: ReadonlyMap<string, number>): Promise<number> {
    assertStockQuantities(stock);
    if (stock.size === 0) return 0;
    const result = await this.pool.query(
      `INSERT INTO stock (sku, available) SELECT * FROM unnest($1::text[], $2::integer[])
       ON CONFLICT (sku) DO NOTHING`,
      [[...stock.keys()], [...stock.values()]],
    );
    return result.rowCount ?? 0;
  }

  async available(skus: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const result = await this.pool.query<{ sku: string; available: number }>(
      'SELECT sku, available FROM stock WHERE sku = ANY($1::text[])',
      [skus],
    );
    const found = new Map(result.rows.map((row) => [row.sku, row.available]));
    return new Map(skus.map((sku) => [sku, found.get(sku) ?? 0]));
  }

  private async recorded(orderId: string): Promise<ReservationOutcome | undefined> {
    const result = await this.pool.query<ReservationRow>('SELECT outcome, lines, shortages FROM reservations WHERE order_id = $1', [
      orderId,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toOutcome(row);
  }
}

/** Control flow only: rolls back the transaction of a call that lost the race for its order. */
class LostRace extends Error {}
