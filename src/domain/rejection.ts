/**
 * Expected failures are values with a stable code, never exceptions. The code is what
 * operators filter the dead-letter topic by, so codes are part of the public contract:
 * add new ones, never rename old ones.
 */
export type RejectionCode =
  | 'MESSAGE.EMPTY'
  | 'MESSAGE.TOO_LARGE'
  | 'MESSAGE.INVALID_UTF8'
  | 'MESSAGE.INVALID_JSON'
  | 'MESSAGE.NOT_AN_OBJECT'
  /** No produced_at, and the record timestamp is not a time (negative, or past year 9999: ns or µs). */
  | 'MESSAGE.INVALID_TIMESTAMP'
  /** Evaluating the message threw: a bug or an input nobody foresaw; the header names the exception class. */
  | 'MESSAGE.EVALUATION_FAILED'
  | 'ORDER.SCHEMA_VIOLATION'
  | 'ORDER.INVALID_ID'
  | 'ORDER.INVALID_TOTAL'
  | 'ORDER.INVALID_PRODUCED_AT'
  | 'ORDER.UNKNOWN_CHANNEL'
  // A lifecycle event that its consumer cannot read. Events are written by orderflow's own
  // stages, so each of these is a bug or a foreign producer on the topic, never a customer's
  // mistake (those are business rules, on orders.rejected). The bytes' own problems (empty, not
  // UTF-8, not JSON, not an object) keep their MESSAGE.* codes, whatever the topic.
  /** The event does not match its type's schema: a field missing, of the wrong type, or out of its range. */
  | 'EVENT.SCHEMA_VIOLATION'
  /** schema_version is a number this reader does not know: a newer producer; replay it to a newer orderflow. */
  | 'EVENT.UNSUPPORTED_VERSION'
  /** event_type is not the one the topic carries: a producer wrote to the wrong topic. */
  | 'EVENT.UNEXPECTED_TYPE'
  /**
   * A line to reserve whose quantity is not a whole number >= 1 (below 2^53): validation never
   * lets one through, and the inventory would refuse it with an exception that looks transient.
   */
  | 'EVENT.INVALID_QUANTITY'
  /**
   * The order view held the event for an order it had not seen, and the order did not arrive
   * within the hold's bounds (ORDERFLOW_VIEW_HOLD_MAX_AGE_MS, or ORDERFLOW_VIEW_HOLD_MAX_EVENTS
   * newer held events): a status update for an order nobody placed, or a placement lost upstream.
   * Replaying it once the order exists applies it.
   */
  | 'VIEW.ORDER_UNKNOWN';

/**
 * The step of its stage at which a message was rejected (`decode`, `validate`, `score`,
 * `evaluate`, or a step a stage names itself); becomes the DLQ `__connect.errors.stage` header,
 * beside `orderflow.stage` with the stage's name.
 */
export type RejectionStage = string;

export interface Rejection {
  readonly code: RejectionCode;
  readonly stage: RejectionStage;
  readonly message: string;
  /** The class of the exception behind an unexpected failure (MESSAGE.EVALUATION_FAILED); expected ones have none. */
  readonly exceptionClass?: string;
}

export const rejection = (code: RejectionCode, stage: RejectionStage, message: string): Rejection => ({
  code,
  stage,
  message,
});
