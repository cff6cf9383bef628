import type { Pool } from 'pg';
import { ChargeOutcome, RefundOutcome } from '../../application/ports/payment-gateway.port';
import { ChargeRecord, PaymentLedger } from '../payment/payment-ledger';

interface PaymentRow {
  outcome: 'charged' | 'declined';
  payment_id: string | null;
  amount: string;
  currency: string;
  decline_code: string | null;
  reason: string | null;
}

interface RefundRow {
  refund_id: string;
  amount: string;
  currency: string;
}

const PAYMENT_COLUMNS = 'outcome, payment_id, amount, currency, decline_code, reason';

// pg returns numeric as a string, so that no precision is lost on the way; amounts here are
// the orders' own JavaScript numbers, which it converts back exactly.
const toCharge = (row: PaymentRow): ChargeOutcome =>
  row.outcome === 'charged'
    ? { status: 'charged', paymentId: row.payment_id!, amount: Number(row.amount), currency: row.currency }
    : { status: 'declined', code: row.decline_code!, reason: row.reason ?? '' };

const toRefund = (row: RefundRow): RefundOutcome => ({
  status: 'refunded',
  refundId: row.refund_id,
  amount: Number(row.amount),
  currency: row.currency,
});

/**
 * The payment ledger in PostgreSQL (tables `payments` and `refunds`). Each record is one
 * statement, `INSERT … ON CONFLICT (order_id) DO NOTHING`: of two concurrent records for an
 * order, the second waits on the primary key for the first to commit, inserts nothing, and
 * reads the first one's outcome. See adr/0013.
 */
export class PostgresPaymentLedger implements PaymentLedger {
  constructor(private readonly pool: Pool) {}

  async findCharge(orderId: string): Promise<ChargeOutcome | undefined> {
    const result = await this.pool.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1`, [orderId]);
    const row = result.rows[0];
    return row === undefined ? undefined : toCharge(row);
  }

  async recordCharge(record: ChargeRecord): Promise<ChargeOutcome> {
    const { outcome } = record;
    const inserted = await this.pool.query<PaymentRow>(
      `INSERT INTO payments (order_id, outcome, payment_id, customer, amount, currency, decline_code, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (order_id) DO NOTHING
       RETURNING ${PAYMENT_COLUMNS}`,
      [
        record.orderId,
        outcome.status,
        outcome.status === 'charged' ? outcome.paymentId : null,
        record.customer,
        // Sent as text: String(149.99) is "149.99", the exact decimal the order carries.
        String(outcome.status === 'charged' ? outcome.amount : record.amount),
        outcome.status === 'charged' ? outcome.currency : record.currency,
        outcome.status === 'declined' ? outcome.code : null,
        outcome.status === 'declined' ? outcome.reason : null,
      ],
    );
    const row = inserted.rows[0];
    if (row !== undefined) return toCharge(row);
    const first = await this.findCharge(record.orderId);
    if (first === undefined) throw new Error(`charge of order ${record.orderId} conflicted, but no record of it exists`);
    return first;
  }

  async recordRefund(orderId: string, refundId: string): Promise<RefundOutcome> {
    const inserted = await this.pool.query<RefundRow>(
      `INSERT INTO refunds (order_id, refund_id, payment_id, amount, currency)
       SELECT order_id, $2, payment_id, amount, currency FROM payments WHERE order_id = $1 AND outcome = 'charged'
       ON CONFLICT (order_id) DO NOTHING
       RETURNING refund_id, amount, currency`,
      [orderId, refundId],
    );
    const row = inserted.rows[0];
    if (row !== undefined) return toRefund(row);
    const done = await this.pool.query<RefundRow>('SELECT refund_id, amount, currency FROM refunds WHERE order_id = $1', [orderId]);
    const first = done.rows[0];
    return first === undefined ? { status: 'not_charged' } : toRefund(first);
  }
}
