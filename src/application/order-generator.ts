import { OrderFields } from '../domain/order';

/** mulberry32: a tiny seeded PRNG, so a generated load is reproducible from its seed. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

interface ChannelProfile {
  readonly channel: string;
  readonly share: number;
  readonly minTotal: number;
  readonly maxTotal: number;
}

/** Shares and basket sizes loosely follow the seed's samples: many small web and mobile orders, fewer large partner ones. */
const PROFILES: readonly ChannelProfile[] = [
  { channel: 'web', share: 0.5, minTotal: 5, maxTotal: 1_500 },
  { channel: 'mobile', share: 0.3, minTotal: 5, maxTotal: 400 },
  { channel: 'partner', share: 0.2, minTotal: 100, maxTotal: 5_000 },
];

export interface OrderGeneratorOptions {
  readonly seed?: number;
  /** Keeps ids of separate runs apart, e.g. a timestamp. */
  readonly runId?: string;
  readonly now?: () => number;
}

/** Generates plausible orders across the three seed channels. */
export class OrderGenerator {
  private readonly random: () => number;
  private readonly runId: string;
  private readonly now: () => number;
  private sequence = 0;

  constructor(options: OrderGeneratorOptions = {}) {
    this.random = seededRandom(options.seed ?? 42);
    this.runId = options.runId ?? Date.now().toString(36);
    this.now = options.now ?? Date.now;
  }

  next(): OrderFields {
    const pick = this.random();
    let cumulative = 0;
    const profile = PROFILES.find((p) => (cumulative += p.share) > pick) ?? PROFILES[0]!;
    // Skewed towards small baskets, as real order values are.
    const skewed = this.random() ** 2;
    const total = Math.round((profile.minTotal + skewed * (profile.maxTotal - profile.minTotal)) * 100) / 100;
    this.sequence++;
    return {
      id: `o-${this.runId}-${this.sequence}`,
      customer: `C-${1 + Math.floor(this.random() * 5_000)}`,
      total,
      channel: profile.channel,
      producedAt: this.now(),
    };
  }
}
