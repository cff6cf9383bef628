import { Sleep } from '../../../src/application/retry';
import { WriteGate, WriteGateEvents } from '../../../src/application/write-gate';

/** Sleeps that end only when the test says so, each recording the delay it was asked for. */
class ManualSleeps {
  readonly requested: number[] = [];
  private readonly pending: Array<() => void> = [];

  readonly sleep: Sleep = (ms, signal) =>
    new Promise((resolve) => {
      this.requested.push(ms);
      this.pending.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });

  get waiting(): number {
    return this.pending.length;
  }

  /** Waits until something asks for a sleep. */
  async untilAsleep(): Promise<void> {
    for (let turn = 0; this.pending.length === 0; turn++) {
      if (turn > 100) throw new Error('Nothing is sleeping');
      await settle();
    }
  }

  /** Ends the oldest sleep (once one is asked for) and lets every promise chain that follows it run. */
  async elapse(): Promise<void> {
    await this.untilAsleep();
    this.pending.shift()!();
    await settle();
  }
}

/** A store that fails while `down`, recording how many attempts overlapped. */
class StoreDouble {
  down = true;
  attempts: string[] = [];
  written: string[] = [];
  inProgress = 0;
  maxInProgress = 0;
  alwaysFails = new Set<string>();

  write(name: string) {
    return async (): Promise<void> => {
      this.attempts.push(name);
      this.inProgress++;
      this.maxInProgress = Math.max(this.maxInProgress, this.inProgress);
      try {
        await settle();
        if (this.down || this.alwaysFails.has(name)) throw new Error(`503 ${name}`);
        this.written.push(name);
      } finally {
        this.inProgress--;
      }
    };
  }
}

class EventsSpy implements WriteGateEvents {
  readonly log: string[] = [];
  outageBegan(error: unknown): void {
    this.log.push(`began: ${(error as Error).message}`);
  }
  probeFailed(error: unknown, failedProbes: number): void {
    this.log.push(`probe ${failedProbes} failed: ${(error as Error).message}`);
  }
  outageEnded(_outageMs: number, failedProbes: number, released: number): void {
    this.log.push(`ended after ${failedProbes} failed probes, released ${released}`);
  }
}

/** Runs every queued promise continuation (a few macrotask turns are plenty for these chains). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

const aGate = (random = () => 0.999) => {
  const sleeps = new ManualSleeps();
  const events = new EventsSpy();
  const stopping = new AbortController();
  const gate = new WriteGate(
    { baseDelayMs: 10, maxDelayMs: 80 },
    { sleep: sleeps.sleep, random, now: () => 0, signal: stopping.signal, events },
  );
  return { gate, sleeps, events, stopping };
};

describe('WriteGate', () => {
  it('lets writes through at once, all together, while the target works', async () => {
    const { gate, sleeps } = aGate();
    const store = new StoreDouble();
    store.down = false;
    const results = await Promise.all(['a', 'b', 'c'].map((name) => gate.write(store.write(name))));
    expect(results).toEqual([true, true, true]);
    expect(store.maxInProgress).toBe(3);
    expect(sleeps.requested).toEqual([]);
    expect(gate.failing).toBe(false);
  });

  it('holds every write during an outage and probes one at a time, with exponential delays up to the cap', async () => {
    const { gate, sleeps, events } = aGate();
    const store = new StoreDouble();
    const results = ['a', 'b', 'c', 'd'].map((name) => gate.write(store.write(name)));
    await settle();
    // The first wave was already in flight when the outage began; from here on, one probe at a time.
    expect(store.attempts).toHaveLength(4);
    expect(gate.failing).toBe(true);
    store.maxInProgress = 0;

    for (let probe = 0; probe < 6; probe++) await sleeps.elapse();
    await sleeps.untilAsleep();
    expect(store.attempts).toHaveLength(4 + 6);
    expect(store.maxInProgress).toBe(1);
    // floor(0.999 * min(80, 10 * 2^n)): the delay doubles per failed probe until it reaches the cap.
    expect(sleeps.requested.slice(0, 7)).toEqual([9, 19, 39, 79, 79, 79, 79]);
    expect(sleeps.waiting).toBe(1);

    store.down = false;
    await sleeps.elapse();
    expect(await Promise.all(results)).toEqual([true, true, true, true]);
    expect(store.written.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.failing).toBe(false);
    expect(events.log).toEqual([
      'began: 503 a',
      ...[1, 2, 3, 4, 5, 6].map((n) => `probe ${n} failed: 503 ${['a', 'b', 'c', 'd'][(n - 1) % 4]}`),
      'ended after 6 failed probes, released 3',
    ]);
  });

  it('sends a failed probe to the back of the queue, so a write that never succeeds does not hold back the others', async () => {
    const { gate, sleeps } = aGate();
    const store = new StoreDouble();
    store.alwaysFails.add('poison');
    const poison = gate.write(store.write('poison'));
    await settle();
    store.down = false;
    const others = ['a', 'b'].map((name) => gate.write(store.write(name)));
    await settle();
    expect(store.written).toEqual([]);

    await sleeps.elapse(); // the poison write probes first, and fails again
    await sleeps.elapse(); // then the longest-waiting other write probes, succeeds and releases the rest
    expect(await Promise.all(others)).toEqual([true, true]);
    expect(store.written.sort()).toEqual(['a', 'b']);

    // Released, the poison write fails at once and begins a new outage of its own.
    await sleeps.untilAsleep();
    expect(gate.failing).toBe(true);
    let settled = false;
    void poison.then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
  });

  it('ends every wait when the signal aborts: held writes report false and are not attempted again', async () => {
    const { gate, stopping } = aGate();
    const store = new StoreDouble();
    const results = ['a', 'b', 'c'].map((name) => gate.write(store.write(name)));
    await settle();
    const attempts = store.attempts.length;

    stopping.abort();
    expect(await Promise.all(results)).toEqual([false, false, false]);
    expect(await gate.write(store.write('late'))).toBe(false);
    expect(store.attempts).toHaveLength(attempts);
  });

  it('retries at once, without a new outage, a write that failed in an outage that has ended since', async () => {
    const { gate, sleeps, events } = aGate();
    const store = new StoreDouble();
    // `slow` is in flight across the whole outage: it fails only after another write's probe ended it.
    let failSlow!: () => void;
    let slowAttempts = 0;
    const slow = gate.write(async () => {
      if (++slowAttempts > 1) return;
      await new Promise<void>((resolve) => (failSlow = resolve));
      throw new Error('503 slow');
    });
    const first = gate.write(store.write('a'));
    await settle();
    store.down = false;
    await sleeps.elapse();
    expect(await first).toBe(true);
    expect(gate.failing).toBe(false);

    failSlow();
    expect(await slow).toBe(true);
    expect(slowAttempts).toBe(2);
    expect(gate.failing).toBe(false);
    expect(events.log.filter((line) => line.startsWith('began'))).toHaveLength(1);
  });
});
