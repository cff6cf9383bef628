import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { OutboundMessage } from '../../../src/application/ports/message-bus.port';
import { parseStageList, STAGE_NAMES } from '../../../src/application/stages/stage-names';
import { runStages } from '../../../src/main/commands/run';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { TOKENS } from '../../../src/main/di-tokens';
import { DEFAULT_LIFECYCLE_CONFIG } from '../../../src/main/lifecycle-config';
import { anItemisedWireOrder, aWireOrder, wireBytes } from '../../support/builders';
import { LoggerSpy } from '../../support/logger-spy';

const stockFile = (): string => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'orderflow-run-')), 'stock.json');
  writeFileSync(file, JSON.stringify({ APPLE: 10, MILK: 1 }));
  return file;
};

const CONFIG: AppConfig = {
  ...EMBEDDED_DEFAULTS,
  archive: 'memory',
  httpPort: 0,
  logLevel: 'silent',
  shutdownDeadlineMs: 10_000,
  lifecycle: { ...DEFAULT_LIFECYCLE_CONFIG, stockFile: stockFile() },
};

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const order = (body: Record<string, unknown>): OutboundMessage => ({ key: String(body.id), value: wireBytes(body) });

/** `orderflow run` on the in-memory bus, with the process's signals replaced: the whole command, start to end. */
const startRun = (stages = STAGE_NAMES as readonly (typeof STAGE_NAMES)[number][]) => {
  const signals = new EventEmitter();
  const logger = new LoggerSpy();
  let bus: InMemoryMessageBus | undefined;
  let archive: InMemoryOrderArchive | undefined;
  const exitCode = runStages(CONFIG, stages, {
    signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
    exit: () => undefined,
    overrides: (c) => {
      c.rebindSync(TOKENS.Logger).toConstantValue(logger);
      bus = c.get(TOKENS.MessageBus) as InMemoryMessageBus;
      archive = c.get(TOKENS.Archive) as InMemoryOrderArchive;
    },
  });
  const port = (): number => logger.lines.find((line) => line.message.startsWith('Serving'))!.fields.port as number;
  return { exitCode, signals, logger, port, bus: () => bus!, archive: () => archive! };
};

describe('orderflow run', () => {
  it('runs the whole lifecycle in one process: every order reaches its final event, then SIGTERM drains every stage', async () => {
    const run = startRun();
    await until(() => run.logger.hasLogged(/^Serving/), 'the status server');
    const bus = run.bus();
    await bus.publish(CONFIG.ordersTopic, [
      order(aWireOrder({ id: 'o-seed', total: 20 })),
      order(anItemisedWireOrder({ id: 'o-items' })),
      order(aWireOrder({ id: 'o-declined', total: 9_000 })),
      order(anItemisedWireOrder({ id: 'o-short', total: 8, items: [{ sku: 'MILK', quantity: 2, unit_price: 4 }] })),
      order(anItemisedWireOrder({ id: 'o-mismatch', total: 8 })),
      { key: 'bad', value: Buffer.from('not json') },
    ]);
    await until(() => bus.records('notifications.outbound').length === 5, 'five notifications').catch((error) => {
      const topics = ['orders.by-customer', 'orders.validated', 'orders.rejected', 'payments.processed', 'payments.failed', 'inventory.reserved', 'inventory.insufficient', 'shipments.created', 'notifications.outbound'];
      throw new Error(`${error.message}: ${topics.map((t) => `${t}=${bus.records(t).length}`).join(' ')} ${run.logger.lines.filter((l) => l.level !== 'debug' && l.level !== 'info').map((l) => l.message + JSON.stringify(l.fields)).join(' | ').slice(0, 3000)}`);
    });
    const readyz = await fetch(`http://127.0.0.1:${run.port()}/readyz`, { signal: AbortSignal.timeout(2_000) });
    expect(readyz.status).toBe(200);

    const ids = (topic: string) => bus.records(topic).map((record) => JSON.parse(record.value!.toString()).order_id as string).sort();
    expect(ids('shipments.created')).toEqual(['o-items', 'o-seed']);
    expect(ids('picklists.created')).toEqual(['o-items']);
    expect(ids('payments.failed')).toEqual(['o-declined']);
    expect(ids('inventory.insufficient')).toEqual(['o-short']);
    expect(ids('payments.refunded')).toEqual(['o-short']);
    expect(ids('orders.rejected')).toEqual(['o-mismatch']);
    // The archive stage ran too; the poison message is dead-lettered by both stages that read orders.
    await until(() => run.archive().size === 5, 'the archive');
    expect(bus.records(CONFIG.dlqTopic).length).toBe(2);
    const metrics = await (await fetch(`http://127.0.0.1:${run.port()}/metrics`)).text();
    expect(metrics).toMatch(/orderflow_stage_consumed_total\{stage="payment"\} 4/);

    run.signals.emit('SIGTERM', 'SIGTERM');
    await expect(run.exitCode).resolves.toBe(0);
  });

  it('runs only the stages asked for', async () => {
    const run = startRun(['payment']);
    await until(() => run.logger.hasLogged(/^Serving/), 'the status server');
    expect(run.logger.lines.find((line) => line.message === 'orderflow run starting')?.fields.stages).toEqual(['payment']);
    run.signals.emit('SIGTERM', 'SIGTERM');
    await expect(run.exitCode).resolves.toBe(0);
    expect(run.bus().records('orders.validated')).toEqual([]);
  });

  it('reads --stages / ORDERFLOW_STAGES: every stage by default, unknown or repeated names refused by name', () => {
    expect(parseStageList(undefined)).toEqual(STAGE_NAMES);
    expect(parseStageList(' payment , validation ')).toEqual(['validation', 'payment']);
    expect(() => parseStageList('payment,shipping,billing')).toThrow(
      'Unknown stages "shipping", "billing": expected a comma-separated list of validation, payment, inventory, fulfillment, notification, order-view, archive',
    );
    expect(() => parseStageList('payment,payment')).toThrow('Stage "payment" is listed twice');
  });
});
