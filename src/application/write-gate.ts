import { backoffDelay, BackoffPolicy, Sleep } from './retry';

/** The wait before each probe: full-jitter exponential backoff from baseDelayMs, capped at maxDelayMs. */
export type ProbeBackoff = Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>;

/** What a gate tells its owner, which logs and counts in its own words. */
export interface WriteGateEvents {
  /** A write failed while the target was healthy: writes are held from now on. */
  outageBegan(error: unknown): void;
  /** The n-th probe of this outage failed too. */
  probeFailed(error: unknown, failedProbes: number): void;
  /** A probe succeeded; the writes held meanwhile are released at once. */
  outageEnded(outageMs: number, failedProbes: number, released: number): void;
}

export interface WriteGateDeps {
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly now: () => number;
  /** Aborting it (shutdown) ends every wait: the writes report false and their messages stay unacked. */
  readonly signal: AbortSignal;
  readonly events: WriteGateEvents;
}

type Turn = 'probe' | 'retry' | 'stop';

/**
 * Retries the writes to one target (the archive, the dead-letter topic) while it fails.
 *
 * While the target works, writes go straight through, as many at once as the bus delivers. The
 * first failure begins an outage: from then on every write waits here, and one at a time — the
 * one that has waited longest — probes the target after a jittered exponential backoff capped at
 * maxDelayMs. A successful probe ends the outage and releases the others at once. A failed probe
 * goes to the back of the queue, so a write that can never succeed cannot hold back the rest.
 *
 * However many messages are in flight, a failing store therefore sees one request per backoff
 * period and the log one line, instead of every message retrying on its own. The bus meanwhile
 * reaches its in-flight bound and stops fetching, and nothing is acked, so nothing is committed.
 *
 * There is no attempt limit. Giving up could only skip the message or hand it back to the bus,
 * which would fetch it again at once and retry without any backoff; a write that can never
 * succeed is a bug that must show as a stalled partition and failing readiness, never as a loss.
 * Only the abort signal ends the waiting.
 */
export class WriteGate {
  private outage: Outage | undefined;
  /** Outages begun so far: a write that failed in one that has ended since simply tries again. */
  private outages = 0;

  constructor(
    private readonly backoff: ProbeBackoff,
    private readonly deps: WriteGateDeps,
  ) {}

  get failing(): boolean {
    return this.outage !== undefined;
  }

  /**
   * Resolves true once `attempt` has succeeded, false if the signal aborted first. Never rejects.
   * `failedBefore`: the caller's own first try, made outside the gate on a fast path that needs no
   * promise, failed with this error; it counts as this write's first failed attempt.
   */
  async write(attempt: () => Promise<void>, failedBefore?: { readonly error: unknown }): Promise<boolean> {
    let seen = this.outages;
    if (failedBefore !== undefined && this.outage === undefined) this.begin(failedBefore.error);
    seen = this.outages;
    for (;;) {
      if (this.deps.signal.aborted) return false;
      const outage = this.outage;
      if (outage === undefined) {
        try {
          await attempt();
          return true;
        } catch (error) {
          if (this.outage === undefined && this.outages === seen) this.begin(error);
          seen = this.outages;
          continue;
        }
      }
      const turn = await outage.join();
      if (turn === 'stop') return false;
      if (turn === 'retry') {
        seen = this.outages;
        continue;
      }
      try {
        await attempt();
        this.end(outage);
        return true;
      } catch (error) {
        outage.probeFailed();
        this.deps.events.probeFailed(error, outage.failedProbes);
      }
    }
  }

  private begin(error: unknown): void {
    this.outages++;
    this.outage = new Outage(this.backoff, this.deps);
    this.deps.events.outageBegan(error);
  }

  private end(outage: Outage): void {
    if (this.outage !== outage) return;
    this.outage = undefined;
    const released = outage.release('retry');
    this.deps.events.outageEnded(this.deps.now() - outage.startedAt, outage.failedProbes, released);
  }
}

/** One outage: the queue of held writes and the probe schedule. */
class Outage {
  readonly startedAt: number;
  failedProbes = 0;
  private readonly queue: Array<(turn: Turn) => void> = [];
  private probing = false;
  private over = false;
  private readonly onAbort = (): void => void this.release('stop');

  constructor(
    private readonly backoff: ProbeBackoff,
    private readonly deps: WriteGateDeps,
  ) {
    this.startedAt = deps.now();
    deps.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Waits in the queue: for this write's turn to probe, for the outage to end, or for the abort. */
  join(): Promise<Turn> {
    return new Promise((resolve) => {
      // An outage that ended by a success is no longer the gate's; only an aborted one is joined late.
      if (this.over) return resolve('stop');
      this.queue.push(resolve);
      this.scheduleProbe();
    });
  }

  probeFailed(): void {
    this.failedProbes++;
    this.probing = false;
  }

  /** Ends the outage for every held write; returns how many there were. */
  release(turn: 'retry' | 'stop'): number {
    this.over = true;
    this.deps.signal.removeEventListener('abort', this.onAbort);
    const held = this.queue.splice(0);
    for (const resolve of held) resolve(turn);
    return held.length;
  }

  private scheduleProbe(): void {
    if (this.probing || this.over) return;
    this.probing = true;
    const delay = backoffDelay(this.backoff, this.failedProbes, this.deps.random);
    void this.deps.sleep(delay, this.deps.signal).then(() => {
      if (!this.over) this.queue.shift()?.('probe');
    });
  }
}
