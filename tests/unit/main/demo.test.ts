import { mkdirSync, mkdtempSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runDemo } from '../../../src/main/demo';

/** Every file under a directory, relative to it. */
const filesUnder = (root: string): string[] =>
  existsSync(root) ? readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort() : [];

const demo = (dataDir: string, seed: number, clean = false) =>
  runDemo({ orders: 300, badRatio: 0.01, dataDir, seed, clean, progress: () => {} });

describe('orderflow demo', () => {
  it('names its orders from the seed: a rerun with the same seed rewrites the same files, another seed adds others', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'orderflow-demo-'));
    const first = await demo(dataDir, 7);
    const afterFirst = filesUnder(path.join(dataDir, 'orders'));
    expect(afterFirst).toHaveLength(first.statistics.archived);
    await demo(dataDir, 7);
    expect(filesUnder(path.join(dataDir, 'orders'))).toEqual(afterFirst);
    await demo(dataDir, 8);
    expect(filesUnder(path.join(dataDir, 'orders')).length).toBeGreaterThan(afterFirst.length);
  });

  it('--clean empties only the archive prefix under the data directory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'orderflow-demo-'));
    mkdirSync(path.join(dataDir, 'orders', 'dt=1999-01-01'), { recursive: true });
    writeFileSync(path.join(dataDir, 'orders', 'dt=1999-01-01', 'orderId=stale.json'), '{}');
    mkdirSync(path.join(dataDir, 'keep'));
    writeFileSync(path.join(dataDir, 'keep', 'notes.txt'), 'mine');
    writeFileSync(path.join(dataDir, 'orders.txt'), 'mine too');
    const summary = await demo(dataDir, 9, true);
    const archived = filesUnder(path.join(dataDir, 'orders'));
    expect(archived).toHaveLength(summary.statistics.archived);
    expect(archived).not.toContain(path.join('dt=1999-01-01', 'orderId=stale.json'));
    expect(filesUnder(path.join(dataDir, 'keep'))).toEqual(['notes.txt']);
    expect(existsSync(path.join(dataDir, 'orders.txt'))).toBe(true);
  });
});

describe('the demo of the whole lifecycle', () => {
  it('runs every stage in memory and accounts for every order: each valid one reaches exactly one final status', async () => {
    const summary = await demo(mkdtempSync(path.join(tmpdir(), 'orderflow-demo-')), 11);
    const valid = summary.sent - summary.malformedSent;
    const { shipped, rejected, payment_failed, out_of_stock } = summary.finalStatuses;
    expect(shipped + rejected + payment_failed + out_of_stock).toBe(valid);
    expect(summary.finalStatuses['dead-lettered']).toBe(summary.malformedSent);
    const byName = new Map(summary.stages.map((stage) => [stage.stage, stage]));
    expect(byName.get('archive')!.consumed).toBe(summary.sent);
    expect(byName.get('notification')!.emitted.get('notifications.outbound')).toBe(valid);
    expect(byName.get('payment')!.consumed).toBe(valid - rejected);
  });
});
