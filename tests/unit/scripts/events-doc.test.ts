import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderEventsDoc } from '../../../scripts/events-doc';

describe('docs/events.md', () => {
  it('is what the event catalog says today (regenerate it with npm run docs:events)', () => {
    const written = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'events.md'), 'utf8');
    expect(written).toBe(renderEventsDoc());
  });

  it('documents every topic and its fields', () => {
    const doc = renderEventsDoc();
    for (const topic of ['orders.v1', 'orders.by-customer', 'payments.refunded', 'notifications.outbound', 'orders.v1.dlq']) expect(doc).toContain(`\`${topic}\``);
    expect(doc).toContain('| `shipping_cost` | number | yes | 2 % of the total, to the cent |');
  });
});
