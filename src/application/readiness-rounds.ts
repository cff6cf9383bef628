import { ReadinessCheck } from './ports/lifecycle.port';

export type CheckResult =
  | { readonly name: string; readonly ready: true }
  | { readonly name: string; readonly ready: false; readonly error: string };

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

export interface ReadinessRoundsOptions {
  /**
   * A check slower than this counts as not ready. Default 2000 ms, so the probe's own timeout must
   * be longer (Kubernetes defaults timeoutSeconds to 1 s), or a slow check reads as a dead server.
   */
  readonly timeoutMs?: number;
  /**
   * How long a round's answer is served again before the checks run anew; default 1000 ms.
   * Probes from every replica, kubelet and load balancer then cost one round of checks a second,
   * and requests that arrive while a round runs wait for that round instead of starting their own.
   */
  readonly cacheMs?: number;
}

/**
 * What /readyz answers, for every server that has one (the status server, the HTTP API): rounds
 * of readiness checks, one at a time, each check bounded, the last answer served while fresh.
 */
export class ReadinessRounds {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  /** The last round of readiness checks (or the one running), and when it finished. */
  private last: { report: Promise<ReadinessReport>; settledAt: number | undefined } | undefined;

  constructor(
    private readonly checks: readonly ReadinessCheck[],
    options: ReadinessRoundsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.cacheMs = options.cacheMs ?? 1_000;
  }

  /** The current round of checks, the last one while it is fresh, or a new one: never two at once. Never rejects. */
  report(): Promise<ReadinessReport> {
    const last = this.last;
    if (last !== undefined && (last.settledAt === undefined || Date.now() - last.settledAt < this.cacheMs)) return last.report;
    const report = Promise.all(this.checks.map((readiness) => this.run(readiness))).then((checks) => ({
      ready: checks.every((check) => check.ready),
      checks,
    }));
    const round = { report, settledAt: undefined as number | undefined };
    // run() never rejects, so neither does the round.
    void report.then(() => {
      round.settledAt = Date.now();
    });
    this.last = round;
    return report;
  }

  /** Never rejects: a throwing, rejecting or hanging check is a not-ready result. */
  private async run(readiness: ReadinessCheck): Promise<CheckResult> {
    const { name } = readiness;
    const ms = this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    });
    try {
      // Called inside the promise chain, so a check that throws synchronously is caught too.
      await Promise.race([Promise.resolve().then(() => readiness.check()), timeout]);
      return { name, ready: true };
    } catch (error) {
      return { name, ready: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
