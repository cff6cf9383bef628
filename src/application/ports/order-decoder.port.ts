import { Order } from '../../domain/order';
import { Rejection } from '../../domain/rejection';
import { Result } from '../../domain/result';

/** Turns untrusted bytes into a domain Order, or a Rejection that says what is wrong. Never throws. */
export interface OrderDecoderPort {
  decode(bytes: Buffer): Result<Rejection, Order>;
}

/** The inverse, for publishers: a domain Order on the wire. */
export interface OrderEncoderPort {
  encode(order: Order): Buffer;
}
