import { constants as osConstants } from 'node:os';
import { LoggerPort } from '../application/ports/logger.port';

/** What a shutdown stops: the pipeline, given the part of the deadline its drain may use. */
export interface Drainable {
  stop(drainBudgetMs: number): Promise<void>;
}

/** The slice of `process` a shutdown needs; tests pass an EventEmitter and a recording exit. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface GracefulShutdownOptions {
  readonly logger: LoggerPort;
  /** How long the whole shutdown may take: drain, commit, leave the group, flush. */
  readonly deadlineMs: number;
  readonly signals?: SignalSource;
  readonly exit?: (code: number) => void;
  readonly now?: () => number;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * How `consume` ends on SIGINT or SIGTERM. It listens from the first moment of the command, not
 * from when the pipeline runs: a signal that arrives while the service is still starting (creating
 * topics, joining the group) must stop it too, not kill it by Node's default action with nothing
 * logged. Such a signal is remembered; start-up checks `requested` between its steps, and a
 * pipeline attached afterwards is stopped at once with what is left of the deadline.
 *
 * The first signal drains; the deadline bounds the whole shutdown, as an orchestrator's grace
 * period does, and a second signal exits at once. Neither loses anything: what was not committed
 * is redelivered to the next consumer.
 *
 * A shutdown can also begin without a signal (`begin`, when a part of the process failed): the
 * same drain within the same deadline. A signal during it joins it; only a second signal exits.
 */
export class GracefulShutdown {
  private startedAt: number | undefined;
  private signalled = false;
  private target: Drainable | undefined;
  private draining: Promise<void> | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly signals: SignalSource;
  private readonly exit: (code: number) => void;
  private readonly now: () => number;

  constructor(private readonly options: GracefulShutdownOptions) {
    this.signals = options.signals ?? process;
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.now = options.now ?? Date.now;
    for (const signal of SIGNALS) this.signals.on(signal, this.onSignal);
  }

  /** A shutdown has begun (a signal, or `begin`): start-up should go no further. */
  get requested(): boolean {
    return this.startedAt !== undefined;
  }

  /** What is left of the deadline: all of it until a shutdown begins, never less than 0. */
  get remainingMs(): number {
    if (this.startedAt === undefined) return this.options.deadlineMs;
    return Math.max(0, this.options.deadlineMs - (this.now() - this.startedAt));
  }

  /** The running pipeline; stopped at once if a signal came while it was starting. */
  attach(target: Drainable): void {
    this.target = target;
    if (!this.requested) return;
    this.options.logger.info({}, 'Shutting down: the pipeline started after the signal; draining it');
    this.drain();
  }

  /** Begins a shutdown that no signal asked for (`reason` says why); nothing happens if one has begun already. */
  begin(reason: string): void {
    if (this.requested) return;
    this.startShutdown({ reason, starting: this.target === undefined }, `Shutting down: ${reason}`);
  }

  /** Resolves when the drain a signal started has finished (at once if none did). */
  get drained(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  /** Stops listening; the command is over. */
  dispose(): void {
    for (const signal of SIGNALS) this.signals.off(signal, this.onSignal);
    clearTimeout(this.deadline);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.signalled) {
      this.options.logger.warn({ signal }, 'Second signal: exiting now; uncommitted messages will be redelivered');
      this.exit(exitCodeFor(signal));
      return;
    }
    this.signalled = true;
    if (this.requested) {
      this.options.logger.info({ signal }, 'Signal during the shutdown: it goes on; a second signal exits now');
      return;
    }
    this.startShutdown(
      { signal, starting: this.target === undefined },
      this.target === undefined ? 'Shutting down during start-up' : 'Shutting down: draining in-flight orders',
    );
  };

  private startShutdown(fields: Record<string, unknown>, message: string): void {
    this.startedAt = this.now();
    const { deadlineMs } = this.options;
    this.options.logger.info({ ...fields, deadlineMs }, message);
    // The drain may hang on a store or a broker that does not answer, and so may the commit, the
    // leave and the producer flush after it: past the deadline the process exits with what it committed.
    this.deadline = setTimeout(() => {
      this.options.logger.error({ deadlineMs }, 'Shutdown deadline passed: exiting now; uncommitted messages will be redelivered');
      this.exit(1);
    }, deadlineMs);
    this.deadline.unref();
    if (this.target !== undefined) this.drain();
  }

  private drain(): void {
    if (this.draining !== undefined || this.target === undefined) return;
    this.draining = this.target.stop(drainBudget(this.remainingMs));
  }
}

/**
 * The part of a shutdown's time that in-flight orders get to finish; the rest (a quarter, at most
 * 5 s) is kept for committing, leaving the group and flushing the producer.
 */
export const drainBudget = (deadlineMs: number): number => deadlineMs - Math.min(5_000, Math.floor(deadlineMs / 4));

/** The shell's convention for a process ended by a signal: 128 + the signal's number. */
export const exitCodeFor = (signal: NodeJS.Signals): number => 128 + (osConstants.signals[signal] ?? 0);
