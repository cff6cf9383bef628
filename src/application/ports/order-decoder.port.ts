import { Order } from '../../domain/order';
import { Rejection } from '../../domain/rejection';
import { Result } from '../../domain/result';

/** Turns untrusted bytes into a domain Order, or a Rejection that says what is wrong. Never throws. */
export interface OrderDecoderPort {
  decode(bytes: Buffer): Result<Rejection, Order>;
}

/** One invalid field, by its name on the wire (`total`, `items.0.sku`); empty for the bytes as a whole (not JSON, not an object). */
export interface InvalidField {
  readonly field: string;
  readonly message: string;
}

/** decode's Rejection, with every invalid field named. */
export interface ExplainedRejection extends Rejection {
  readonly fields: readonly InvalidField[];
}

/**
 * The consumer's decoder for a caller that answers a person (the HTTP API's 400): the same
 * decision, code and message as decode, and every invalid field it found, not only the first.
 */
export interface ExplainingOrderDecoderPort extends OrderDecoderPort {
  decodeExplained(bytes: Buffer): Result<ExplainedRejection, Order>;
}

/** The inverse, for publishers: a domain Order on the wire. */
export interface OrderEncoderPort {
  encode(order: Order): Buffer;
}
