/**
 * The keys archived lately, in bounded memory and O(1) per key: two generations of at most half
 * the capacity each; when the current one fills up, the older is forgotten.
 */
export class RecentKeys {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Remembers the key; returns whether it was remembered already. */
  remember(key: string): boolean {
    // add() and a size check, not has() then add(): a new key, the usual case, is hashed into
    // `current` once. A key only `previous` holds is copied into `current`, which keeps it longer.
    const size = this.current.size;
    this.current.add(key);
    const known = this.current.size === size || this.previous.has(key);
    if (this.current.size * 2 >= this.capacity) {
      this.previous = this.current;
      this.current = new Set();
    }
    return known;
  }
}
