import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import { ExplainedRejection, ExplainingOrderDecoderPort, InvalidField, OrderEncoderPort } from '../../application/ports/order-decoder.port';
import { createOrder, Order, OrderFields, orderProblems, SHIPPING_ADDRESS_FIELDS, ShippingAddress } from '../../domain/order';
import { rejection, Rejection, RejectionCode } from '../../domain/rejection';
import { err, Result } from '../../domain/result';
import { explain, instantOf, IsoInstantText, OrderIdCodec, parseJsonObject } from './io-ts-json';

/**
 * A line on the wire. Only types are checked: a quantity of 0 or a negative price is a business
 * rule the validation stage rejects with its reasons (orders.rejected), not a malformed message.
 */
const OrderLineWire = t.type({ sku: t.string, quantity: t.number, unit_price: t.number }, 'OrderLine');

/** Every part optional and a string; fields it does not name are ignored. */
const ShippingAddressWire = t.partial(
  Object.fromEntries(SHIPPING_ADDRESS_FIELDS.map((field) => [field, t.string])) as Record<(typeof SHIPPING_ADDRESS_FIELDS)[number], t.StringC>,
  'ShippingAddress',
);

/**
 * The seed's wire format, `{"id","customer","total","channel","produced_at"?}`, with what the
 * lifecycle adds, all optional: `items` (`[{"sku","quantity","unit_price"}]`), `currency` (ISO
 * 4217, DEFAULT_CURRENCY when absent) and `shipping_address` (`{"name","street","city",
 * "postcode","region","country"}`, each optional). Unknown fields are ignored.
 */
export const OrderWireCodec = t.intersection([
  // `total` is only typed here; its range (finite, >= 0) is the domain's rule, checked by createOrder.
  t.type({ id: OrderIdCodec, customer: t.string, total: t.number, channel: t.string }),
  t.partial({ produced_at: IsoInstantText, items: t.array(OrderLineWire), currency: t.string, shipping_address: ShippingAddressWire }),
]);
type OrderWire = t.TypeOf<typeof OrderWireCodec>;

const codeForField: ReadonlyMap<string, RejectionCode> = new Map([
  ['id', 'ORDER.INVALID_ID'],
  ['total', 'ORDER.INVALID_TOTAL'],
  ['produced_at', 'ORDER.INVALID_PRODUCED_AT'],
]);

/**
 * The edge where untrusted bytes become a domain Order: strict UTF-8, JSON, an object, the
 * io-ts schema, then the domain's smart constructor. Every failure is a Rejection whose message
 * says what is wrong, e.g. `Expecting number at total but instead got: "abc"`.
 *
 * The schema is checked with io-ts's `is` first: the wire types are their JSON values (nothing is
 * transformed), so a value `is` accepts is what `decode` would return, and `is` walks it without
 * building an Either and a context per field. Only a value it refuses pays for `decode`, whose
 * errors make the readable message; io-ts stays the one description of the wire format.
 */
export class IoTsOrderCodec implements ExplainingOrderDecoderPort, OrderEncoderPort {
  decode(bytes: Buffer): Result<Rejection, Order> {
    const result = this.decodeExplained(bytes);
    if (result.ok) return result;
    const { fields: _fields, ...plain } = result.error;
    return err(plain);
  }

  decodeExplained(bytes: Buffer): Result<ExplainedRejection, Order> {
    const json = parseJsonObject(bytes, 'decode');
    if (!json.ok) return err({ ...json.error, fields: [] });
    let wire: OrderWire;
    if (OrderWireCodec.is(json.value)) {
      wire = json.value;
    } else {
      const decoded = OrderWireCodec.decode(json.value);
      if (isLeft(decoded)) {
        const field = decoded.left[0]?.context.find((entry) => codeForField.has(entry.key))?.key;
        const code = (field === undefined ? undefined : codeForField.get(field)) ?? 'ORDER.SCHEMA_VIOLATION';
        return err({ ...rejection(code, 'validate', explain(decoded).join('; ')), fields: invalidFields(decoded.left) });
      }
      wire = decoded.right;
    }
    // Built up, not spread together: a conditional spread clones an object per field, per order.
    const fields: { -readonly [K in keyof OrderFields]: OrderFields[K] } = { id: wire.id, customer: wire.customer, total: wire.total, channel: wire.channel };
    if (wire.produced_at !== undefined) fields.producedAt = instantOf(wire.produced_at);
    if (wire.items !== undefined) fields.items = wire.items.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unit_price }));
    if (wire.currency !== undefined) fields.currency = wire.currency;
    if (wire.shipping_address !== undefined) fields.shippingAddress = wire.shipping_address;
    const order = createOrder(fields);
    if (order.ok) return order;
    return err({ ...order.error, fields: orderProblems(fields).map(({ field, message }) => ({ field, message })) });
  }

  encode(order: Order): Buffer {
    return Buffer.from(
      JSON.stringify({
        id: order.id,
        customer: order.customer,
        total: order.total,
        channel: order.channel,
        ...(order.producedAt === undefined ? {} : { produced_at: new Date(order.producedAt).toISOString() }),
        ...(order.items === undefined ? {} : { items: order.items.map((line) => ({ sku: line.sku, quantity: line.quantity, unit_price: line.unitPrice })) }),
        ...(order.currency === undefined ? {} : { currency: order.currency }),
        ...(order.shippingAddress === undefined ? {} : { shipping_address: order.shippingAddress }),
      }),
    );
  }
}

/**
 * One entry per invalid field, by its wire path: the intersection's member index is left out
 * (`total`, not `0.total`), array indexes are kept (`items.0.sku`). A field io-ts reports twice
 * (both members of a union) is named once, with its first message.
 */
const invalidFields = (errors: t.Errors): InvalidField[] => {
  const byField = new Map<string, string>();
  for (const error of errors) {
    const field = error.context
      .filter((entry, index) => index > 0 && !(error.context[index - 1]!.type instanceof t.IntersectionType))
      .map((entry) => entry.key)
      .join('.');
    if (!byField.has(field)) byField.set(field, explain({ _tag: 'Left', left: [error] })[0] ?? `Invalid ${field}`);
  }
  return [...byField].map(([field, message]) => ({ field, message }));
};
