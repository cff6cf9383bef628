import { Rejection } from '../../domain/rejection';
import { ClockPort } from '../ports/clock.port';
import { DeadLetterPort } from '../ports/dead-letter.port';
import { LoggerPort } from '../ports/logger.port';
import { InboundMessage } from '../ports/message-bus.port';
import { StageMetricsPort, StageTarget } from '../ports/stage-metrics.port';
import { Sleep, sleep } from '../retry';
import { ProbeBackoff, WriteGate } from '../write-gate';

export interface StageWritesDeps {
  /** The stage's name: the metric label, the log field and the dead letters' `orderflow.stage` header. */
  readonly stage: string;
  /** Where a rejected message of a given input topic goes (`<input topic>.dlq`). */
  readonly deadLetters: (inputTopic: string) => DeadLetterPort;
  readonly metrics: StageMetricsPort;
  readonly logger: LoggerPort;
  readonly clock: ClockPort;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Told of every dead letter once it is written (the archive's statistics count them). */
  readonly onDeadLettered?: (code: Rejection['code']) => void;
}

/** How the log tells of a failing target, in the stage's words. */
export interface TargetWords {
  /** The target as the log's `target` field names it (`archive`); default the StageTarget itself. */
  readonly name?: string;
  /** The first failure: "Archive write failed: holding archive writes". */
  readonly failed: string;
  readonly stillFailing: string;
  readonly succeedsAgain: string;
}

const DEFAULT_WORDS: Readonly<Record<StageTarget, TargetWords>> = {
  handle: { failed: 'Handling failed: holding its inputs', stillFailing: 'Handling still failing', succeedsAgain: 'Handling succeeds again' },
  publish: { failed: 'Publishing failed: holding its outputs', stillFailing: 'Publishing still failing', succeedsAgain: 'Publishing succeeds again' },
  'dead-letter': {
    failed: 'Dead-letter write failed: holding dead letters',
    stillFailing: 'Dead-letter topic still failing',
    succeedsAgain: 'Dead-letter writes succeed again',
  },
};

/**
 * The writes of one stage, each target behind its own WriteGate: its own effect (`handle`), its
 * outputs (`publish`) and its dead letters. Stages differ in what they write, not in how a
 * failing target is held, probed, logged and counted, so every stage gets the same behaviour:
 * one probe per backoff period, one log line, readiness failing until a write succeeds again.
 */
export class StageWrites {
  private readonly gates: Readonly<Record<StageTarget, WriteGate>>;

  constructor(
    private readonly deps: StageWritesDeps,
    backoff: ProbeBackoff,
    signal: AbortSignal,
    words: Partial<Record<StageTarget, TargetWords>> = {},
  ) {
    const gate = (target: StageTarget): WriteGate => this.gate(target, words[target] ?? DEFAULT_WORDS[target], backoff, signal);
    this.gates = { handle: gate('handle'), publish: gate('publish'), 'dead-letter': gate('dead-letter') };
  }

  /** Whether any target is failing right now (held writes, probing). */
  get failing(): readonly StageTarget[] {
    return (Object.keys(this.gates) as StageTarget[]).filter((target) => this.gates[target].failing);
  }

  /** Resolves true once `attempt` succeeded, false if shutdown came first. Never rejects. */
  write(target: StageTarget, attempt: () => Promise<void>): Promise<boolean> {
    let attempts = 0;
    return this.gates[target].write(() => {
      if (attempts++ > 0) this.deps.metrics.stageRetried(this.deps.stage, target);
      return attempt();
    });
  }

  /** As write, after a first attempt made outside the gate failed with `error`: every attempt from here on is a retry. */
  retry(target: StageTarget, attempt: () => Promise<void>, error: unknown): Promise<boolean> {
    return this.gates[target].write(() => {
      this.deps.metrics.stageRetried(this.deps.stage, target);
      return attempt();
    }, { error });
  }

  /** Resolves true once the message is on its dead-letter topic with its reason, false if shutdown came first. */
  deadLetter(original: InboundMessage, reason: Rejection): Promise<boolean> {
    return this.write('dead-letter', () => this.sendDeadLetter(original, reason));
  }

  private async sendDeadLetter(original: InboundMessage, reason: Rejection): Promise<void> {
    const { stage, metrics, logger } = this.deps;
    try {
      await this.deps.deadLetters(original.topic).send({ original, rejection: reason, stage });
    } catch (error) {
      metrics.stageDeadLetterFailed(stage);
      throw error;
    }
    metrics.stageDeadLettered(stage, reason.code);
    this.deps.onDeadLettered?.(reason.code);
    logger.warn(
      {
        stage,
        topic: original.topic,
        partition: original.partition,
        offset: original.offset,
        code: reason.code,
        reason: clip(reason.message, MAX_LOGGED_REASON_CHARS),
      },
      'Message dead-lettered',
    );
  }

  private gate(target: StageTarget, words: TargetWords, backoff: ProbeBackoff, signal: AbortSignal): WriteGate {
    const { stage, metrics, logger } = this.deps;
    const named = words.name ?? target;
    return new WriteGate(backoff, {
      sleep: this.deps.sleep ?? sleep,
      random: this.deps.random ?? Math.random,
      now: () => this.deps.clock.now(),
      signal,
      events: {
        outageBegan: (error) => {
          metrics.stageTargetHealthy(stage, target, false);
          logger.warn({ stage, target: named, err: describe(error) }, `${words.failed}, probing with backoff until one succeeds`);
        },
        probeFailed: (error, failedProbes) => logger.warn({ stage, target: named, failedProbes, err: describe(error) }, words.stillFailing),
        outageEnded: (outageMs, failedProbes, released) => {
          metrics.stageTargetHealthy(stage, target, true);
          logger.info({ stage, target: named, outageMs, failedProbes, released }, words.succeedsAgain);
        },
      },
    });
  }
}

/** Error text for logs. Adapters are responsible for keeping secrets out of their errors. */
const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** As the dead-letter sink bounds its headers: a hostile payload's rejection reason must not bloat the log. */
const MAX_LOGGED_REASON_CHARS = 1_000;

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
