import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { STAGE_NAMES } from '../../../src/application/stages/stage-names';
import { apiStagesProblem, startOrderApi } from '../../../src/main/commands/api';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { DEFAULT_LIFECYCLE_CONFIG } from '../../../src/main/lifecycle-config';
import { anItemisedWireOrder, aWireOrder } from '../../support/builders';

const stockFile = (): string => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'orderflow-api-')), 'stock.json');
  writeFileSync(file, JSON.stringify({ APPLE: 10, MILK: 10 }));
  return file;
};

/** The embedded default as `orderflow api` builds it without KAFKA_BROKERS: in-memory bus and view, every stage here. */
const CONFIG: AppConfig = {
  ...EMBEDDED_DEFAULTS,
  archive: 'memory',
  httpHost: '127.0.0.1',
  httpPort: 0,
  logLevel: 'silent',
  shutdownDeadlineMs: 10_000,
  lifecycle: { ...DEFAULT_LIFECYCLE_CONFIG, stockFile: stockFile() },
};

describe('orderflow api', () => {
  it('on the embedded default, serves a placed order through every stage to its final status (GET ?wait=), and stops with 0', async () => {
    const signals = new EventEmitter();
    const api = await startOrderApi(CONFIG, STAGE_NAMES, { signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) } });
    try {
      const post = (body: unknown) => fetch(`${api.address.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const placed = await post(anItemisedWireOrder({ id: 'o-cli-1' }));
      expect(placed.status).toBe(201);
      expect(placed.headers.get('location')).toBe('/orders/o-cli-1');

      const shipped = await fetch(`${api.address.url}/orders/o-cli-1?wait=shipped&timeout=10000`);
      expect(shipped.status).toBe(200);
      const row = (await shipped.json()) as { status: string; shipping_cost: number; total: number; shipment?: unknown };
      expect(row).toMatchObject({ status: 'shipped', shipping_cost: Math.round(row.total * 2) / 100 });
      expect(row.shipment).toBeDefined();

      const delivered = await fetch(`${api.address.url}/orders/o-cli-1/status`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'delivered' }) });
      expect(delivered.status).toBe(202);
      const final = await fetch(`${api.address.url}/orders/o-cli-1?wait=delivered&timeout=10000`);
      expect(((await final.json()) as { status: string }).status).toBe('delivered');

      // A rejected order ends early, and the waiter hears that too.
      expect((await post(aWireOrder({ id: 'o-cli-2', channel: 'web', total: 1e9 }))).status).toBe(201);
      const rejected = await fetch(`${api.address.url}/orders/o-cli-2?wait=delivered&timeout=10000`);
      expect(((await rejected.json()) as { status: string }).status).toBe('rejected');

      expect((await post(aWireOrder({ id: 'o-cli-1' }))).status).toBe(409);
      expect((await fetch(`${api.address.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await api.close()).toBe(0);
    }
    await expect(fetch(`${api.address.url}/healthz`)).rejects.toThrow();
  });

  it('refuses Kafka without DATABASE_URL unless the order-view stage runs here, naming both ways out', async () => {
    const kafka: AppConfig = { ...CONFIG, bus: 'kafka', kafka: { brokers: ['127.0.0.1:1'], clientId: 'x', ssl: false, topicPartitions: 1, createTopics: true, compression: 'none' } };
    expect(apiStagesProblem(kafka, [])).toMatch(/DATABASE_URL.*--stages order-view/);
    expect(apiStagesProblem(kafka, ['order-view'])).toBeUndefined();
    expect(apiStagesProblem({ ...kafka, lifecycle: { ...DEFAULT_LIFECYCLE_CONFIG, postgres: { url: 'postgres://u@h/d' } } }, [])).toBeUndefined();
    await expect(startOrderApi(kafka, [])).rejects.toThrow(/needs the order view/);
  });
});
