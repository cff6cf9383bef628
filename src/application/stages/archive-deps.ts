import { RiskScorerRegistry } from '../../domain/risk';
import { OrderStatistics } from '../order-statistics';
import { ClockPort } from '../ports/clock.port';
import { DeadLetterPort } from '../ports/dead-letter.port';
import { LoggerPort } from '../ports/logger.port';
import { MetricsPort } from '../ports/metrics.port';
import { OrderArchivePort } from '../ports/order-archive.port';
import { OrderDecoderPort } from '../ports/order-decoder.port';
import { StageMetricsPort } from '../ports/stage-metrics.port';
import { Sleep } from '../retry';
import { TargetWords } from './stage-writes';

/** The name both archive stages run under: one consumes, whichever sink is chosen. */
export const ARCHIVE_STAGE = 'archive';

/** What either archive stage needs, whether it writes an object per order or per batch. */
export interface OrderSinkDeps {
  readonly decoder: OrderDecoderPort;
  readonly scorers: RiskScorerRegistry;
  readonly archive: OrderArchivePort;
  /** The archive's dead-letter topic (DLQ_TOPIC); the batched sink writes to it itself. */
  readonly deadLetters: DeadLetterPort;
  readonly clock: ClockPort;
  readonly metrics: MetricsPort & StageMetricsPort;
  readonly statistics: OrderStatistics;
  readonly logger: LoggerPort;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

/** The archive's words for its failing target, as operators and the fault suite know them. */
export const ARCHIVE_WORDS: Readonly<Record<'handle', TargetWords>> = {
  handle: { name: 'archive', failed: 'Archive write failed: holding archive writes', stillFailing: 'Archive still failing', succeedsAgain: 'Archive writes succeed again' },
};
