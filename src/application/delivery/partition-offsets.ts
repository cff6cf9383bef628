/**
 * Tracks one partition's delivered offsets and which of them are acked, and answers the one
 * question a commit needs: up to where is everything done?
 *
 * The position is the first delivered offset not yet acked (or one past the last delivered
 * when all are acked). With ten messages in flight, if the third fails the position stays at
 * the third even when the fourth to tenth succeed. Offsets need not be contiguous (compaction
 * and transaction markers leave gaps), so the tracker follows delivered offsets rather than
 * counting up by one.
 *
 * Delivered offsets are kept in two parallel arrays, found again by binary search: no map entry
 * or object per message, so a batch of a thousand messages costs two array pushes each, and a
 * range ack (a DeliveryBatch's ackThrough) is one search and a loop.
 *
 * Offsets are kept as numbers: exact up to 2^53, i.e. centuries at a million messages a second.
 */
export class PartitionOffsets {
  private offsets: number[] = [];
  private states: OffsetState[] = [];
  /** Every delivered offset before this index is acked. */
  private head = 0;
  private unsettled = 0;
  private nextPosition: number;

  constructor(startPosition: number) {
    this.nextPosition = startPosition;
  }

  /** Where a commit may point: the next offset to read after a restart. */
  get position(): number {
    return this.head < this.offsets.length ? (this.offsets[this.head] as number) : this.nextPosition;
  }

  /** Delivered offsets neither acked nor nacked yet. */
  get inFlight(): number {
    return this.unsettled;
  }

  delivered(offset: number): void {
    if (this.offsets.length > 0 && offset <= (this.offsets[this.offsets.length - 1] as number)) {
      throw new Error(`Offset ${offset} delivered out of order`);
    }
    this.offsets.push(offset);
    this.states.push(IN_FLIGHT);
    this.unsettled++;
    this.nextPosition = offset + 1;
  }

  /** Marks an offset done; returns true when the position moved. Acks of unknown or settled offsets are ignored. */
  ack(offset: number): boolean {
    return this.ackRange(offset, offset);
  }

  /**
   * Marks every in-flight offset from `first` through `last` done (offsets settled before, and
   * the gaps between delivered offsets, are skipped); returns true when the position moved.
   */
  ackRange(first: number, last: number): boolean {
    let index = this.indexAtOrAfter(first);
    for (; index < this.offsets.length && (this.offsets[index] as number) <= last; index++) {
      if (this.states[index] !== IN_FLIGHT) continue;
      this.states[index] = ACKED;
      this.unsettled--;
    }
    const before = this.head;
    while (this.head < this.offsets.length && this.states[this.head] === ACKED) this.head++;
    const moved = this.head !== before;
    if (this.head > 1024 && this.head * 2 > this.offsets.length) this.compact();
    return moved;
  }

  /**
   * Gives up on an in-flight offset without acking it: it no longer counts as in flight, but
   * the position can never pass it. Returns false for unknown or settled offsets.
   */
  nack(offset: number): boolean {
    return this.nackRange(offset, offset) > 0;
  }

  /** nack() for every in-flight offset from `first` through `last`; returns how many there were. */
  nackRange(first: number, last: number): number {
    let nacked = 0;
    for (let index = this.indexAtOrAfter(first); index < this.offsets.length && (this.offsets[index] as number) <= last; index++) {
      if (this.states[index] !== IN_FLIGHT) continue;
      this.states[index] = NACKED;
      this.unsettled--;
      nacked++;
    }
    return nacked;
  }

  /** Whether an offset was delivered and is neither acked nor nacked yet. */
  isInFlight(offset: number): boolean {
    const index = this.indexAtOrAfter(offset);
    return this.offsets[index] === offset && this.states[index] === IN_FLIGHT;
  }

  /**
   * Starts over from the current position, dropping all tracking. Used to replay a partition
   * after a nack: everything from the first unacked offset is delivered again.
   */
  rewind(): number {
    const position = this.position;
    this.offsets = [];
    this.states = [];
    this.head = 0;
    this.unsettled = 0;
    this.nextPosition = position;
    return position;
  }

  /** The index of the first delivered offset at or after `offset` that is not below the head (acked ones are done). */
  private indexAtOrAfter(offset: number): number {
    let low = this.head;
    let high = this.offsets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.offsets[middle] as number) < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private compact(): void {
    this.offsets = this.offsets.slice(this.head);
    this.states = this.states.slice(this.head);
    this.head = 0;
  }
}

const IN_FLIGHT = 0;
const ACKED = 1;
const NACKED = 2;
type OffsetState = typeof IN_FLIGHT | typeof ACKED | typeof NACKED;
