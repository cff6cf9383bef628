import { isLeft, Left } from 'fp-ts/Either';
import * as t from 'io-ts';
import reporter from 'io-ts-reporters';
import { OrderDecoderPort, OrderEncoderPort } from '../../application/ports/order-decoder.port';
import { parseIsoInstant } from '../../domain/event-time';
import { createOrder, isOrderId, Order } from '../../domain/order';
import { rejection, Rejection, RejectionCode } from '../../domain/rejection';
import { err, Result } from '../../domain/result';

interface OrderIdBrand {
  readonly OrderId: unique symbol;
}

/** The brand reuses the domain's own predicate, so the edge and the core cannot disagree. */
const OrderIdCodec = t.brand(t.string, (s): s is t.Branded<string, OrderIdBrand> => isOrderId(s), 'OrderId');

/** An ISO-8601 instant on the wire, epoch milliseconds inside; a date that does not round-trip is refused (parseIsoInstant). */
const IsoInstant = new t.Type<number, string, unknown>(
  'ISO8601',
  (u): u is number => typeof u === 'number',
  (u, context) => {
    const ms = typeof u === 'string' ? parseIsoInstant(u) : undefined;
    return ms === undefined ? t.failure(u, context) : t.success(ms);
  },
  (ms) => new Date(ms).toISOString(),
);

/** The seed's wire format: `{"id","customer","total","channel","produced_at"?}`. Unknown fields are ignored. */
export const OrderWireCodec = t.intersection([
  // `total` is only typed here; its range (finite, >= 0) is the domain's rule, checked by createOrder.
  t.type({ id: OrderIdCodec, customer: t.string, total: t.number, channel: t.string }),
  t.partial({ produced_at: IsoInstant }),
]);

const codeForField: ReadonlyMap<string, RejectionCode> = new Map([
  ['id', 'ORDER.INVALID_ID'],
  ['total', 'ORDER.INVALID_TOTAL'],
  ['produced_at', 'ORDER.INVALID_PRODUCED_AT'],
]);

/** Longest quote of an offending value: a rejection reason is a log field and a DLQ header, not a copy of the payload. */
const MAX_LINE_CHARS = 300;

/**
 * io-ts-reporters' lines, e.g. `Expecting number at total but instead got: "abc"`, bounded. The
 * reporter quotes the offending value with JSON.stringify, which recurses: a value nested a few
 * thousand levels deep (a hostile payload parses fine, JSON.parse does not recurse) would throw
 * RangeError, and a decoder that throws turns a dead letter into an endless redelivery. Such a
 * value is located, not quoted.
 */
const explain = (decoded: Left<t.Errors>): string[] => {
  try {
    // The intersection adds its member index to paths ("0.total"); readers want the field name.
    return reporter.report(decoded).map((line) => clip(line.replace(/ at \d+\./g, ' at ')));
  } catch {
    return decoded.left.map((error) => {
      const path = error.context.map((entry) => entry.key).filter((key) => key !== '' && !/^\d+$/.test(key)).join('.');
      const expected = error.context[error.context.length - 1]?.type.name ?? 'a valid value';
      return clip(`Expecting ${expected} at ${path} but instead got a value nested too deeply to show`);
    });
  }
};

const clip = (line: string): string => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line);

// `fatal` makes malformed UTF-8 an error instead of silently turning it into U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The edge where untrusted bytes become a domain Order: strict UTF-8, JSON, an object, the
 * io-ts schema, then the domain's smart constructor. Every failure is a Rejection whose message
 * says what is wrong, e.g. `Expecting number at total but instead got: "abc"`.
 */
export class IoTsOrderCodec implements OrderDecoderPort, OrderEncoderPort {
  decode(bytes: Buffer): Result<Rejection, Order> {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return err(rejection('MESSAGE.INVALID_UTF8', 'decode', 'Message is not valid UTF-8'));
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return err(rejection('MESSAGE.INVALID_JSON', 'decode', clip(`Message is not JSON: ${(error as Error).message}`)));
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      const kind = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
      return err(rejection('MESSAGE.NOT_AN_OBJECT', 'decode', `Expecting a JSON object but instead got ${kind}`));
    }
    const decoded = OrderWireCodec.decode(json);
    if (isLeft(decoded)) {
      const field = decoded.left[0]?.context.find((entry) => codeForField.has(entry.key))?.key;
      const code = (field === undefined ? undefined : codeForField.get(field)) ?? 'ORDER.SCHEMA_VIOLATION';
      return err(rejection(code, 'validate', explain(decoded).join('; ')));
    }
    const wire = decoded.right;
    return createOrder({
      id: wire.id,
      customer: wire.customer,
      total: wire.total,
      channel: wire.channel,
      ...(wire.produced_at === undefined ? {} : { producedAt: wire.produced_at }),
    });
  }

  encode(order: Order): Buffer {
    return Buffer.from(
      JSON.stringify({
        id: order.id,
        customer: order.customer,
        total: order.total,
        channel: order.channel,
        ...(order.producedAt === undefined ? {} : { produced_at: new Date(order.producedAt).toISOString() }),
      }),
    );
  }
}
