import { randomUUID } from 'node:crypto';
import type { Client, Pool, PoolClient } from 'pg';
import { ClockPort } from '../../application/ports/clock.port';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { LoggerPort } from '../../application/ports/logger.port';
import {
  ApplyOutcome,
  ExpiredHeldEvent,
  HeldEventBounds,
  OrderListQuery,
  OrderPage,
  OrderView,
  OrderViewQueries,
  OrderViewStore,
} from '../../application/ports/order-view.port';
import { assertHeldEventBounds, assertListQuery, DEFAULT_HELD_EVENT_BOUNDS, encodeCursor, expiredByAge, HeldEventsFullError, VIEW_ORDER_UNKNOWN } from '../../application/order-view';
import { LifecycleEvent, OrderPlaced } from '../../domain/lifecycle/events';
import { applyToView, byOccurrence, createView } from '../../domain/lifecycle/order-view';
import { describeDatabaseUrl, explainPostgresError, pingPostgres, loadPg, quoteIdentifier } from './postgres-connection';
import { inTransaction } from './postgres-transaction';

/** This adapter's transaction-level advisory locks (two-integer form): one per order, by a hash of its id. */
const ORDER_LOCK_CLASS = 0x5649_4557; // "VIEW"

/**
 * How long an instance's claim on expired events it handed out holds: past it, another instance
 * (or this one after a restart) hands them out again. Far longer than writing a dead letter takes.
 */
export const EXPIRED_CLAIM_LEASE_MS = 60_000;

/** The first reconnect of the listening connection waits this long, doubling up to the maximum. */
const LISTEN_RETRY_MS = 500;
const LISTEN_RETRY_MAX_MS = 30_000;

export interface PostgresOrderViewOptions {
  readonly bounds?: HeldEventBounds;
  readonly clock?: ClockPort;
  readonly logger: LoggerPort;
}

interface ViewRow {
  view: OrderView;
}

interface HeldRow {
  event: LifecycleEvent;
  topic: string;
  held_at_ms: string;
  expired: 'age' | null;
  seq: string;
}

/**
 * The order view in PostgreSQL (tables `order_view` and `order_view_held`, see migrations/): the
 * domain's rules, with rows every `orderflow api` instance reads and held events that survive a
 * restart (adr/0018).
 *
 * An apply is one READ COMMITTED transaction under a transaction-level advisory lock on its order
 * (a hash of the id): every event of one order, from any process, is applied one after another.
 * That lock is also what keeps an event from being held while its placed event is being applied,
 * which would leave it held until it expired. In the transaction: read the row, apply the domain's
 * rule, write the row (the history in it is the duplicate check), and pg_notify the order id,
 * which PostgreSQL delivers at commit only.
 *
 * Listening takes one connection of its own (LISTEN holds it), opened on the first onChange and
 * reopened, with a growing pause, when it drops; a change another process committed while it was
 * down is not heard, so a waiter also re-reads on its own timeout. This instance's own changes
 * reach its listeners directly, after the commit, and once more through the notification. The channel names the schema, so that two
 * deployments in one database do not hear each other.
 */
export class PostgresOrderView implements OrderViewStore, OrderViewQueries, LifecyclePort {
  private readonly bounds: HeldEventBounds;
  private readonly clock: ClockPort;
  private readonly logger: LoggerPort;
  /** Whose claims on expired events these are: one id per instance, so a restart is another claimant. */
  private readonly claimant = randomUUID();
  private readonly listeners = new Set<(orderId: string) => void>();
  private listener: Client | undefined;
  private listening: Promise<void> | undefined;
  private retryMs = LISTEN_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    { bounds = DEFAULT_HELD_EVENT_BOUNDS, clock = { now: () => Date.now() }, logger }: PostgresOrderViewOptions,
  ) {
    assertHeldEventBounds(bounds);
    this.bounds = bounds;
    this.clock = clock;
    this.logger = logger;
  }

  async apply(event: LifecycleEvent, topic: string): Promise<ApplyOutcome> {
    const outcome = await this.explained<ApplyOutcome>('applying an event to the order view', () =>
      inTransaction(this.pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ORDER_LOCK_CLASS, event.order_id]);
        const found = await client.query<ViewRow>('SELECT view FROM order_view WHERE order_id = $1', [event.order_id]);
        const row = found.rows[0]?.view;
        if (row === undefined) return event.event_type === 'placed' ? this.create(client, event) : this.hold(client, event, topic);
        const step = applyToView(row, event);
        if (step.kind === 'duplicate') return step;
        await this.write(client, step.view, 'update');
        return step.kind === 'applied' ? step : { kind: 'ignored', reason: step.reason };
      }),
    );
    // This instance's own listeners hear its changes at once, also before the listening
    // connection is up; they hear them again through it (at least once, as the port allows).
    if (outcome.kind === 'applied' || outcome.kind === 'ignored') this.tell(event.order_id);
    return outcome;
  }

  async expireHeld(nowMs: number): Promise<readonly ExpiredHeldEvent[]> {
    const rows = await this.explained('expiring held events', () =>
      inTransaction(this.pool, async (client) => {
        // Calling again confirms that what this instance handed out last time is dead-lettered.
        await client.query('DELETE FROM order_view_held WHERE claimed_by = $1', [this.claimant]);
        await client.query(`UPDATE order_view_held SET expired = 'age' WHERE expired IS NULL AND held_at_ms <= $1::bigint`, [nowMs - this.bounds.maxAgeMs]);
        const claimed = await client.query<HeldRow>(
          `UPDATE order_view_held SET claimed_by = $1, claimed_at_ms = $2::bigint
            WHERE expired IS NOT NULL AND (claimed_by IS NULL OR claimed_at_ms <= $3::bigint)
           RETURNING event, topic, held_at_ms, expired, seq`,
          [this.claimant, nowMs, nowMs - EXPIRED_CLAIM_LEASE_MS],
        );
        return claimed.rows;
      }),
    );
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((row) => ({
        event: row.event,
        topic: row.topic,
        code: VIEW_ORDER_UNKNOWN,
        message: expiredByAge(row.event.order_id, Number(row.held_at_ms), nowMs, this.bounds),
      }));
  }

  async get(orderId: string): Promise<OrderView | undefined> {
    const found = await this.explained('reading the order view', () => this.pool.query<ViewRow>('SELECT view FROM order_view WHERE order_id = $1', [orderId]));
    return found.rows[0]?.view;
  }

  async list(query: OrderListQuery): Promise<OrderPage> {
    const after = assertListQuery(query);
    const conditions: string[] = [];
    const values: unknown[] = [];
    const bind = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (query.status !== undefined) conditions.push(`status = ${bind(query.status)}`);
    if (query.customer !== undefined) conditions.push(`customer = ${bind(query.customer)}`);
    if (after !== undefined) conditions.push(`(placed_at, order_id) > (${bind(after.placedAt)}::timestamptz, ${bind(after.orderId)})`);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const found = await this.explained('listing the order view', () =>
      this.pool.query<ViewRow>(`SELECT view FROM order_view ${where} ORDER BY placed_at, order_id LIMIT ${bind(query.limit + 1)}`, values),
    );
    const orders = found.rows.slice(0, query.limit).map((row) => row.view);
    const last = orders[orders.length - 1];
    return found.rows.length > query.limit && last !== undefined ? { orders, nextCursor: encodeCursor(last) } : { orders };
  }

  onChange(listener: (orderId: string) => void): () => void {
    const own = (orderId: string): void => listener(orderId);
    this.listeners.add(own);
    this.listen();
    return () => {
      this.listeners.delete(own);
    };
  }

  /** Nothing to open ahead: the pool is its owner's, and listening starts with the first listener. */
  async start(): Promise<void> {}

  async ready(): Promise<void> {
    if (this.closed) throw new Error('the order view is closed');
    await pingPostgres(this.pool, this.pool.options.connectionString ?? '');
  }

  /** Ends the listening connection; the pool is its owner's to end. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.listening;
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  private async create(client: PoolClient, placed: OrderPlaced): Promise<ApplyOutcome> {
    let view = createView(placed);
    const waiting = await client.query<HeldRow>('DELETE FROM order_view_held WHERE order_id = $1 AND expired IS NULL RETURNING event, topic, held_at_ms, expired, seq', [
      placed.order_id,
    ]);
    for (const held of waiting.rows.sort(byOccurrence)) {
      const step = applyToView(view, held.event);
      if (step.kind !== 'duplicate') view = step.view;
    }
    await this.write(client, view, 'insert');
    return { kind: 'applied', view };
  }

  private async hold(client: PoolClient, event: LifecycleEvent, topic: string): Promise<ApplyOutcome> {
    // At the count bound the hold is refused (a transient failure, retried by the stage); holds
    // racing in other transactions may each pass the check, so the bound can be passed by as many
    // events as there are concurrent holds, never by more. A redelivered held event is not counted.
    const full = await client.query<{ full: boolean }>(
      `SELECT (SELECT count(*) FROM order_view_held WHERE expired IS NULL) >= $1::bigint
              AND NOT EXISTS (SELECT 1 FROM order_view_held WHERE event_id = $2) AS full`,
      [this.bounds.maxEvents, event.event_id],
    );
    if (full.rows[0]?.full === true) throw new HeldEventsFullError(event.order_id, this.bounds);
    await client.query(
      `INSERT INTO order_view_held (event_id, order_id, topic, event, held_at_ms) VALUES ($1, $2, $3, $4, $5::bigint) ON CONFLICT (event_id) DO NOTHING`,
      [event.event_id, event.order_id, topic, JSON.stringify(event), this.clock.now()],
    );
    return { kind: 'held' };
  }

  private async write(client: PoolClient, view: OrderView, how: 'insert' | 'update'): Promise<void> {
    const values = [view.orderId, view.status, view.customer, view.placedAt, view.version, JSON.stringify(view)];
    await client.query(
      how === 'insert'
        ? 'INSERT INTO order_view (order_id, status, customer, placed_at, version, view) VALUES ($1, $2, $3, $4::timestamptz, $5, $6)'
        : 'UPDATE order_view SET status = $2, customer = $3, placed_at = $4::timestamptz, version = $5, view = $6 WHERE order_id = $1',
      values,
    );
    await client.query(`SELECT pg_notify('order_view:' || current_schema(), $1)`, [view.orderId]);
  }

  private listen(): void {
    if (this.closed || this.listening !== undefined || this.listener !== undefined) return;
    const client: Client = new (loadPg().Client)(this.pool.options);
    const url = this.pool.options.connectionString ?? '';
    const dropped = (error?: Error): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.logger.warn(
        { database: describeDatabaseUrl(url), retryInMs: this.retryMs },
        `order view: the listening connection dropped, so changes until it is back go unheard${error === undefined ? '' : `: ${explainPostgresError(error, 'listening', url).message}`}`,
      );
      this.retryLater();
    };
    client.on('error', dropped);
    client.on('end', () => dropped());
    client.on('notification', (message) => {
      if (message.payload !== undefined) this.tell(message.payload);
    });
    this.listener = client;
    this.listening = (async () => {
      await client.connect();
      const schema = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      await client.query(`LISTEN ${quoteIdentifier(`order_view:${schema.rows[0]!.schema}`)}`);
      this.retryMs = LISTEN_RETRY_MS;
    })()
      .catch((error: unknown) => {
        if (this.listener === client) dropped(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.listening = undefined;
      });
  }

  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.listen(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, LISTEN_RETRY_MAX_MS);
  }

  private tell(orderId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(orderId);
      } catch {
        // A listener's failure is its own: the others still hear the change.
      }
    }
  }

  private async explained<A>(action: string, work: () => Promise<A>): Promise<A> {
    try {
      return await work();
    } catch (error) {
      // The view's own refusal is no database failure: the stage recognises it and waits for room.
      if (error instanceof HeldEventsFullError) throw error;
      throw explainPostgresError(error, action, this.pool.options.connectionString ?? '');
    }
  }
}
