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
 * Offsets are kept as numbers: exact up to 2^53, i.e. centuries at a million messages a second.
 */
export class PartitionOffsets {
  private offsets: number[] = [];
  private acked: boolean[] = [];
  private head = 0;
  private indexOf = new Map<number, number>();
  private nextPosition: number;

  constructor(startPosition: number) {
    this.nextPosition = startPosition;
  }

  /** Where a commit may point: the next offset to read after a restart. */
  get position(): number {
    return this.head < this.offsets.length ? (this.offsets[this.head] as number) : this.nextPosition;
  }

  get inFlight(): number {
    return this.indexOf.size;
  }

  delivered(offset: number): void {
    if (this.offsets.length > 0 && offset <= (this.offsets[this.offsets.length - 1] as number)) {
      throw new Error(`Offset ${offset} delivered out of order`);
    }
    this.indexOf.set(offset, this.offsets.length);
    this.offsets.push(offset);
    this.acked.push(false);
    this.nextPosition = offset + 1;
  }

  /** Marks an offset done; returns true when the position moved. Acks of unknown offsets are ignored. */
  ack(offset: number): boolean {
    const index = this.indexOf.get(offset);
    if (index === undefined) return false;
    this.indexOf.delete(offset);
    this.acked[index] = true;
    const before = this.head;
    while (this.head < this.offsets.length && this.acked[this.head] === true) this.head++;
    if (this.head > 1024 && this.head * 2 > this.offsets.length) this.compact();
    return this.head !== before;
  }

  /**
   * Gives up on an in-flight offset without acking it: it no longer counts as in flight, but
   * the position can never pass it. Returns false for unknown offsets.
   */
  nack(offset: number): boolean {
    return this.indexOf.delete(offset);
  }

  /** Whether an offset was delivered and is neither acked nor nacked yet. */
  isInFlight(offset: number): boolean {
    return this.indexOf.has(offset);
  }

  /**
   * Starts over from the current position, dropping all tracking. Used to replay a partition
   * after a nack: everything from the first unacked offset is delivered again.
   */
  rewind(): number {
    const position = this.position;
    this.offsets = [];
    this.acked = [];
    this.head = 0;
    this.indexOf = new Map();
    this.nextPosition = position;
    return position;
  }

  private compact(): void {
    const shift = this.head;
    this.offsets = this.offsets.slice(shift);
    this.acked = this.acked.slice(shift);
    this.head = 0;
    this.indexOf = new Map([...this.indexOf].map(([offset, index]) => [offset, index - shift] as const));
  }
}
