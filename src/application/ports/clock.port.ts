export interface ClockPort {
  /** Epoch milliseconds. */
  now(): number;
}
