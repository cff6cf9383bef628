import fc from 'fast-check';
import { ThroughputWindow } from '../../../src/domain/throughput-window';

/** The naive reference: keep every timestamp and count those in the window. */
const naiveCount = (timestamps: readonly number[], nowMs: number, windowSeconds: number): number => {
  const current = Math.floor(nowMs / 1000);
  return timestamps.filter((t) => {
    const second = Math.floor(t / 1000);
    return second > current - windowSeconds && second <= current;
  }).length;
};

describe('ThroughputWindow', () => {
  it('counts what a naive list of timestamps would, for any monotonic stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 40 }),
        (gaps, windowSeconds) => {
          const window = new ThroughputWindow(windowSeconds);
          const seen: number[] = [];
          let now = 1_700_000_000_000;
          for (const gap of gaps) {
            now += gap * 20;
            window.record(now);
            seen.push(now);
            expect(window.count(now)).toBe(naiveCount(seen, now, windowSeconds));
          }
          // And after the stream goes quiet, the window empties as time passes.
          expect(window.count(now + windowSeconds * 1000)).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports events per second over a 30 s window', () => {
    const window = new ThroughputWindow(30);
    const start = 1_700_000_000_000;
    for (let s = 0; s < 30; s++) for (let i = 0; i < 100; i++) window.record(start + s * 1000 + i);
    expect(window.ratePerSecond(start + 29_999)).toBe(100);
  });

  it('uses constant memory: a million events fit in 30 buckets', () => {
    const window = new ThroughputWindow(30);
    for (let i = 0; i < 1_000_000; i++) window.record(1_700_000_000_000 + (i % 1000));
    expect(window.count(1_700_000_000_999)).toBe(1_000_000);
  });

  it('ignores an event older than the window instead of evicting a newer bucket', () => {
    const window = new ThroughputWindow(30);
    const now = 1_700_000_100_000;
    window.record(now);
    window.record(now - 30_000);
    expect(window.count(now)).toBe(1);
  });
});
