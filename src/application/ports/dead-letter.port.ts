import { Rejection } from '../../domain/rejection';
import { InboundMessage } from './message-bus.port';

export interface DeadLetter {
  /** The message exactly as it arrived: key, value and origin. */
  readonly original: InboundMessage;
  readonly rejection: Rejection;
  /** The stage that rejected it (its name); becomes the `orderflow.stage` header. */
  readonly stage?: string;
}

/** Where messages that can never be processed go, with their reason, so that nothing is lost silently. */
export interface DeadLetterPort {
  send(deadLetter: DeadLetter): Promise<void>;
}
