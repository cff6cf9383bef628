import { Stage } from './stage';
import { RunningStage, StageRunner, StageRunOptions } from './stage-runner';

/** One stage on the runner, started and stopped as a unit: what `consume`, the demo and the tests run. */
export class StagePipeline {
  private running: RunningStage | undefined;

  constructor(
    private readonly runner: StageRunner,
    readonly stage: Stage,
    private readonly options: StageRunOptions,
  ) {}

  async start(): Promise<RunningStage> {
    if (this.running !== undefined) throw new Error(`The ${this.stage.name} stage is already running`);
    this.running = await this.runner.run(this.stage, this.options);
    return this.running;
  }

  /**
   * Drains in-flight work, commits and leaves the groups. Writes that are failing stop retrying
   * at once: their messages stay uncommitted and are redelivered after the restart.
   */
  async stop(deadlineMs = 30_000): Promise<void> {
    await this.running?.stop(deadlineMs);
  }
}
