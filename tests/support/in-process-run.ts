import { EventEmitter } from 'node:events';
import { StageName } from '../../src/application/stages/stage-names';
import { runStages } from '../../src/main/commands/run';
import { AppConfig } from '../../src/main/config';
import { TOKENS } from '../../src/main/di-tokens';
import { eventually } from './integration-config';
import { LoggerSpy } from './logger-spy';

/** `orderflow run` in this process, as the integration suites drive it: its log kept, its signals the test's. */
export interface InProcessRun {
  readonly logger: LoggerSpy;
  /** Resolves with the exit code once run() has ended. */
  readonly exitCode: Promise<number>;
  /** The last `count` warnings and errors, for a wait's failure message. */
  problems(count?: number): string;
  /** Throws, with the log's complaints, if the run has ended by itself: every wait calls it, so none outlives the run. */
  alive(): void;
  /** The port /healthz, /readyz and /metrics are served on, once it serves. */
  readonly port: number;
  /** As SIGTERM. */
  terminate(): void;
}

/** Starts the stages and resolves once the run serves HTTP (its stages are joining or running). */
export const startRunInProcess = async (config: AppConfig, stages: readonly StageName[]): Promise<InProcessRun> => {
  const signals = new EventEmitter();
  const logger = new LoggerSpy();
  const exitCode = runStages(config, stages, {
    signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
    exit: () => undefined,
    overrides: (c) => {
      c.rebindSync(TOKENS.Logger).toConstantValue(logger);
    },
  });
  const problems = (count = 20): string =>
    logger.lines
      .filter((line) => line.level === 'warn' || line.level === 'error')
      .slice(-count)
      .map((line) => `${line.level} ${line.message} ${JSON.stringify(line.fields).slice(0, 300)}`)
      .join('\n');
  let endedWith: number | undefined;
  void exitCode.then((code) => (endedWith = code));
  const alive = (): void => {
    if (endedWith !== undefined) throw new Error(`orderflow run ended early with ${endedWith}:\n${problems()}`);
  };
  await eventually(async () => (alive(), logger.hasLogged(/^Serving/)), () => 'orderflow run to serve', 60_000);
  const port = logger.lines.find((line) => line.message.startsWith('Serving'))!.fields.port as number;
  return { logger, exitCode, problems, alive, port, terminate: () => void signals.emit('SIGTERM', 'SIGTERM') };
};
