import { ioTsLifecycleEventCodecs } from '../../../src/adapters/io-ts/lifecycle-event-codec';
import { LifecycleEventCodecs } from '../../../src/application/stages/lifecycle/event-codecs';
import { LifecycleEvent } from '../../../src/domain/lifecycle/events';
import { Rejection } from '../../../src/domain/rejection';
import { Result } from '../../../src/domain/result';
import {
  aCustomerNotification,
  anInventoryInsufficient,
  anInventoryReserved,
  anOrderPlaced,
  anOrderRejected,
  anOrderValidated,
  aPaymentFailed,
  aPaymentProcessed,
  aPaymentRefunded,
  aPicklistCreated,
  anInboundMessage,
  aShipmentCreated,
  wireBytes,
} from '../../support/builders';

const codecs = ioTsLifecycleEventCodecs();

/** Every codec with a complete event of its type (every optional field set) and the record key it must get. */
const SAMPLES: readonly [keyof LifecycleEventCodecs, LifecycleEvent, string][] = [
  ['placed', anOrderPlaced({ order_id: 'o-1', customer: 'C-1' }), 'C-1'],
  ['validated', anOrderValidated({ order_id: 'o-1' }), 'o-1'],
  ['rejected', anOrderRejected({ order_id: 'o-1' }), 'o-1'],
  ['paymentProcessed', aPaymentProcessed({ order_id: 'o-1' }), 'o-1'],
  ['paymentFailed', aPaymentFailed({ order_id: 'o-1' }), 'o-1'],
  ['paymentRefunded', aPaymentRefunded({ order_id: 'o-1' }), 'o-1'],
  ['inventoryReserved', anInventoryReserved({ order_id: 'o-1' }), 'o-1'],
  ['inventoryInsufficient', anInventoryInsufficient({ order_id: 'o-1' }), 'o-1'],
  ['picklistCreated', aPicklistCreated({ order_id: 'o-1' }), 'o-1'],
  ['shipmentCreated', aShipmentCreated({ order_id: 'o-1' }), 'o-1'],
  ['notification', aCustomerNotification({ order_id: 'o-1', customer: 'C-1' }), 'C-1'],
];

const codecOf = (name: keyof LifecycleEventCodecs) => codecs[name] as LifecycleEventCodecs['placed'] & { encode(event: LifecycleEvent): ReturnType<LifecycleEventCodecs['placed']['encode']> };
// The io-ts codecs decode synchronously (the port allows a promise, for a schema registry).
const decode = (name: keyof LifecycleEventCodecs, value: Buffer | null) =>
  codecOf(name).decode(anInboundMessage({ topic: 'some.topic', value })) as Result<Rejection, LifecycleEvent>;
const rejectionOf = (name: keyof LifecycleEventCodecs, value: Buffer | null) => {
  const result = decode(name, value);
  if (result.ok) throw new Error('expected a rejection');
  return result.error;
};

describe('the lifecycle event codecs (JSON through io-ts)', () => {
  it.each(SAMPLES)('round-trip a complete %s event, keyed as the catalog says', (name, event, key) => {
    const encoded = codecOf(name).encode(event);
    expect(encoded.key).toBe(key);
    expect(JSON.parse(encoded.value.toString('utf8'))).toEqual(event);
    expect(decode(name, encoded.value)).toEqual({ ok: true, value: event });
  });

  // A picklist's items are its point, never absent: there is no picklist for a seed-shaped order.
  it.each(SAMPLES.filter(([name, event]) => name !== 'picklistCreated' && ('items' in event || 'shipping_address' in event)))(
    'round-trip a %s event of a seed-shaped order (no items, no address)',
    (name, event) => {
      const { items: _items, shipping_address: _address, ...seedShaped } = event as LifecycleEvent & { items?: unknown; shipping_address?: unknown };
      const encoded = codecOf(name).encode(seedShaped as LifecycleEvent);
      expect(encoded.value.toString('utf8')).not.toMatch(/items|shipping_address/);
      expect(decode(name, encoded.value)).toEqual({ ok: true, value: seedShaped });
    },
  );

  it('encode the same event to the same bytes, whatever rides along on the object', () => {
    const event = aShipmentCreated({ order_id: 'o-1' });
    const withExtra = { ...event, debug: 'not for the wire' } as typeof event;
    expect(codecs.shipmentCreated.encode(withExtra).value).toEqual(codecs.shipmentCreated.encode(event).value);
    expect(codecs.shipmentCreated.encode(event).value.toString()).toBe(codecs.shipmentCreated.encode({ ...event }).value.toString());
  });

  it('drop fields a version-1 reader does not know, at every level (a producer may add fields)', () => {
    const event = anOrderValidated({ order_id: 'o-1' });
    const wire = { ...event, loyalty_tier: 'gold', items: event.items!.map((line) => ({ ...line, colour: 'red' })), shipping_address: { city: 'X', planet: 'Mars' } };
    expect(decode('validated', wireBytes(wire))).toEqual({ ok: true, value: { ...event, shipping_address: { city: 'X' } } });
  });

  it('are not polluted by hostile keys, which they drop like any unknown field', () => {
    const event = anOrderValidated({ order_id: 'o-1' });
    const json = JSON.stringify(event)
      .replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},')
      .replace('"shipping_address":{', '"shipping_address":{"__proto__":{"polluted":true},');
    const result = decode('validated', Buffer.from(json));
    expect(result).toEqual({ ok: true, value: event });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    if (result.ok) expect(Object.keys(result.value)).toEqual(Object.keys(event));
  });

  describe('reject what they cannot read, each with its code', () => {
    it.each([
      ['an empty record', 'MESSAGE.EMPTY', Buffer.alloc(0)],
      ['a tombstone (null value)', 'MESSAGE.EMPTY', null],
      ['invalid UTF-8', 'MESSAGE.INVALID_UTF8', Buffer.from([0x7b, 0xff, 0x7d])],
      ['truncated JSON', 'MESSAGE.INVALID_JSON', Buffer.from('{"event_id":')],
      ['a JSON array', 'MESSAGE.NOT_AN_OBJECT', wireBytes([anOrderValidated()])],
      ['a newer schema version', 'EVENT.UNSUPPORTED_VERSION', wireBytes({ ...anOrderValidated(), schema_version: 2, total: 'renamed' })],
      ['another topic’s event type', 'EVENT.UNEXPECTED_TYPE', wireBytes({ ...anOrderValidated(), event_type: 'rejected' })],
      ['a schema version that is not a number', 'EVENT.SCHEMA_VIOLATION', wireBytes({ ...anOrderValidated(), schema_version: '1' })],
      ['a missing event id', 'EVENT.SCHEMA_VIOLATION', wireBytes({ ...anOrderValidated(), event_id: undefined })],
      ['an unsafe order id', 'EVENT.SCHEMA_VIOLATION', wireBytes(anOrderValidated({ order_id: '../x' }))],
      ['an occurred_at that is no instant', 'EVENT.SCHEMA_VIOLATION', wireBytes(anOrderValidated({ occurred_at: '2026-02-30T10:00:00Z' }))],
      ['a negative total', 'EVENT.SCHEMA_VIOLATION', wireBytes(anOrderValidated({ total: -1 }))],
      ['a currency that is not ISO 4217', 'EVENT.SCHEMA_VIOLATION', wireBytes(anOrderValidated({ currency: 'euro' }))],
      ['a line without a SKU', 'EVENT.SCHEMA_VIOLATION', wireBytes({ ...anOrderValidated(), items: [{ quantity: 1, unit_price: 1 }] })],
    ])('%s: %s', (_case, code, value) => {
      expect(rejectionOf('validated', value)).toMatchObject({ code, stage: 'decode' });
    });

    it('say what is wrong, in io-ts words', () => {
      expect(rejectionOf('validated', wireBytes(anOrderValidated({ total: 'abc' as unknown as number })))).toEqual({
        code: 'EVENT.SCHEMA_VIOLATION',
        stage: 'decode',
        message: 'Expecting Amount at total but instead got: "abc"',
      });
      expect(rejectionOf('validated', wireBytes({ ...anOrderValidated(), schema_version: 3 })).message).toBe(
        'schema_version 3 of a validated event is not one this reader knows: expected 1',
      );
      expect(rejectionOf('validated', wireBytes({ ...anOrderValidated(), event_type: 'rejected' })).message).toBe(
        'event_type "rejected" on some.topic: expected "validated"',
      );
    });

    it('never throw on a value nested deeper than a message can quote', () => {
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const json = JSON.stringify(anOrderValidated()).replace(/"total":7/, `"total":${deep}`);
      expect(rejectionOf('validated', Buffer.from(json))).toMatchObject({ code: 'EVENT.SCHEMA_VIOLATION', message: expect.stringContaining('nested too deeply') });
    });
  });
});
