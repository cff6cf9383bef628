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
    if (this.current.has(key) || this.previous.has(key)) return true;
    this.current.add(key);
    if (this.current.size * 2 >= this.capacity) {
      this.previous = this.current;
      this.current = new Set();
    }
    return false;
  }
}
