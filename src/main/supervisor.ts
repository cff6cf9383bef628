import { ReadinessCheck } from '../application/ports/lifecycle.port';
import { LoggerPort } from '../application/ports/logger.port';
import { Resources } from '../application/resources';
import { drainBudget, GracefulShutdown, SignalSource } from './graceful-shutdown';

/** A unit once started: `done` resolves when it has ended after a stop, and rejects on a fatal error. */
export interface RunningUnit {
  readonly done: Promise<void>;
}

/**
 * One long-running part of a process: a pipeline, a stage, a status server. The supervisor calls
 * start() once; stop() at most once, only after start() resolved and only while `done` has not
 * settled, with the part of the shutdown deadline its drain may use.
 */
export interface SupervisedUnit {
  /** For logs and /readyz: `orders`, `payments`, `http`… */
  readonly name: string;
  /** Resolves once the unit runs (joined its group, listens…); rejects when it cannot start. */
  start(): Promise<RunningUnit>;
  /** Drains within `deadlineMs`; `done` settles once it has. */
  stop(deadlineMs: number): Promise<void>;
  /** What /readyz asks of it while it runs (none: running is enough). */
  readonly readiness: readonly ReadinessCheck[];
}

export interface SupervisorOptions {
  readonly logger: LoggerPort;
  /** ORDERFLOW_SHUTDOWN_DEADLINE_MS: how long the whole shutdown may take, every unit's drain included. */
  readonly deadlineMs: number;
  readonly units: readonly SupervisedUnit[];
  /** Started before the units, closed on every way out of run(); their readiness is part of the supervisor's. */
  readonly resources?: Resources;
  /** The process's signals and exit, and the clock: tests replace them. */
  readonly signals?: SignalSource;
  readonly exit?: (code: number) => void;
  readonly now?: () => number;
}

type UnitState = 'waiting' | 'starting' | 'running' | 'stopping' | 'ended' | 'not started';

interface Slot {
  readonly unit: SupervisedUnit;
  state: UnitState;
  stopCalled: boolean;
  stopped: Promise<void>;
}

/**
 * Runs several units in one process (`consume`'s pipeline and status server; the stages of
 * `orderflow run`) and ends them together. On top of GracefulShutdown, with its behaviour:
 * SIGINT and SIGTERM are heard from the moment the supervisor is constructed, a second signal
 * exits at once (128 + the signal's number), and the whole shutdown is bounded by `deadlineMs`,
 * past which the process exits 1. Nothing is lost by either: what was not committed is
 * redelivered to the next consumer.
 *
 * Usage:
 *
 *     const pipeline: SupervisedUnit = {
 *       name: 'orders',
 *       start: () => orderPipeline.start(),            // a Subscription is a RunningUnit
 *       stop: (budgetMs) => orderPipeline.stop(budgetMs),
 *       readiness: [],
 *     };
 *     const supervisor = new Supervisor({ logger, deadlineMs, units: [pipeline], resources });  // listens now
 *     …start-up steps (topics), checking supervisor.requested between them; on giving up: await supervisor.close()…
 *     const http = new HttpStatusServer({ readiness: supervisor.readiness, … });  // a unit of its own, if it should stop with them
 *     process.exit(await supervisor.run());
 *
 * `run()` starts the resources (in order), then every unit at once (joining several groups one
 * after the other would add their join times up), and resolves with the exit code once every unit
 * that started has ended and the resources are closed:
 *
 * - 0 after a signal: all running units are stopped together, concurrently, each given
 *   drainBudget(what is left of the one deadline); a unit still starting when the signal came is
 *   stopped as soon as its start resolves, with what is left then.
 * - 1 when a unit fails: its start rejects, its `done` rejects, or `done` resolves before it was
 *   asked to stop (a service's units run until told otherwise). The first failure stops all the
 *   other units, drained within the deadline as after a signal; later ones are logged too.
 * - 1 when the resources cannot start (no unit is started then), or a unit's stop() rejects.
 *
 * A unit is over once its `done` has settled (and the stop() it was given, if any). A unit that
 * never started (its start rejected, or a signal came before run()) is never stopped; a unit whose
 * `done` settled first is not stopped either. The drain budget keeps the rest of the deadline
 * (a quarter, at most 5 s) for committing, leaving the groups and closing the resources, which
 * run() does after the last unit is over: in reverse order, so the producer's flush comes after
 * every drain that publishes, and on every way out of run(). The resources are closed on
 * every way out of run(), in reverse order; call close() instead when a command gives up before
 * calling run(). A forced exit (second signal, deadline) leaves the closing to the operating
 * system: whatever hangs would hang the close too.
 *
 * `readiness` is ready only when every unit has started and runs, every unit's own checks pass,
 * and every resource is ready; `ready()` runs the same checks at once.
 */
export class Supervisor {
  private readonly shutdown: GracefulShutdown;
  private readonly slots: readonly Slot[];
  private readonly logger: LoggerPort;
  private readonly resources: Resources | undefined;
  private exitCode = 0;
  private stopping = false;
  private used = false;
  private closing: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    const names = options.units.map((unit) => unit.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) throw new Error(`Supervisor: two units are named "${repeated}"`);
    this.logger = options.logger;
    this.resources = options.resources;
    this.slots = options.units.map((unit) => ({ unit, state: 'waiting', stopCalled: false, stopped: Promise.resolve() }));
    this.shutdown = new GracefulShutdown({
      logger: options.logger,
      deadlineMs: options.deadlineMs,
      ...(options.signals === undefined ? {} : { signals: options.signals }),
      ...(options.exit === undefined ? {} : { exit: options.exit }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  /** A signal has come (or a unit failed): start-up steps before run() should go no further. */
  get requested(): boolean {
    return this.shutdown.requested;
  }

  /** Starts the resources and the units, and resolves with the process's exit code once they have all ended. */
  async run(): Promise<number> {
    if (this.used) throw new Error('Supervisor.run: a supervisor runs once');
    this.used = true;
    try {
      if (this.resources !== undefined) {
        try {
          await this.resources.start();
        } catch (error) {
          this.logger.error({ err: errorText(error) }, 'Could not start the resources; no unit was started');
          return 1;
        }
      }
      if (this.shutdown.requested) {
        this.logger.info({}, 'Stopped before any unit started');
        return this.exitCode;
      }
      let endAll!: () => void;
      const ended = new Promise<void>((resolve) => (endAll = resolve));
      // From here on a shutdown (signal or failure) stops the units, those still starting included.
      this.shutdown.attach({ stop: (budgetMs) => this.stopUnits(budgetMs, ended) });
      void Promise.all(this.slots.map((slot) => this.supervise(slot))).then(endAll);
      await ended;
      return this.exitCode;
    } finally {
      await this.close();
    }
  }

  /** Closes the resources and stops listening for signals; idempotent. run() ends with it. */
  close(): Promise<void> {
    this.used = true;
    this.closing ??= (async () => {
      try {
        await this.resources?.close();
      } finally {
        this.shutdown.dispose();
      }
    })();
    return this.closing;
  }

  /** For /readyz: whether every unit runs, each unit's own checks (named `<unit>/<check>`), and the resources'. */
  get readiness(): readonly ReadinessCheck[] {
    return [
      { name: 'units', check: async () => this.assertAllRunning() },
      ...this.slots.flatMap((slot) =>
        slot.unit.readiness.map((readiness) => ({
          name: `${slot.unit.name}/${readiness.name}`,
          check: async () => {
            // A unit's own checks mean nothing before it runs, or once it is stopping.
            if (slot.state !== 'running') throw new Error(`unit ${slot.unit.name} is ${slot.state}`);
            await readiness.check();
          },
        })),
      ),
      ...(this.resources?.readiness ?? []),
    ];
  }

  /** Resolves when every check of `readiness` passes; rejects with the first reason. */
  async ready(): Promise<void> {
    await Promise.all(this.readiness.map((readiness) => readiness.check()));
  }

  private assertAllRunning(): void {
    const others = this.slots.filter((slot) => slot.state !== 'running');
    if (others.length > 0) throw new Error(others.map((slot) => `unit ${slot.unit.name} is ${slot.state}`).join('; '));
  }

  /** One unit, from its start to its end; never rejects (failures are counted and logged). */
  private async supervise(slot: Slot): Promise<void> {
    const { name } = slot.unit;
    slot.state = 'starting';
    let running: RunningUnit;
    try {
      running = await slot.unit.start();
    } catch (error) {
      slot.state = 'not started';
      this.fail(name, 'could not start', error);
      return;
    }
    slot.state = 'running';
    this.logger.info({ unit: name }, 'Unit started');
    if (this.slots.every((other) => other.state === 'running')) this.logger.info({ units: this.slots.map((other) => other.unit.name) }, 'Every unit runs');
    if (this.stopping) this.stopUnit(slot, drainBudget(this.shutdown.remainingMs));
    try {
      await running.done;
      slot.state = 'ended';
      if (slot.stopCalled) this.logger.info({ unit: name }, 'Unit stopped');
      else this.fail(name, 'ended without being asked to stop', undefined);
    } catch (error) {
      slot.state = 'ended';
      this.fail(name, slot.stopCalled ? 'failed while stopping' : 'failed', error);
    }
    await slot.stopped;
  }

  /** The shutdown began: every running unit drains at once, within the same budget. */
  private async stopUnits(budgetMs: number, ended: Promise<void>): Promise<void> {
    this.stopping = true;
    // Units still starting are stopped by supervise() when their start resolves.
    for (const slot of this.slots) if (slot.state === 'running') this.stopUnit(slot, budgetMs);
    await ended;
  }

  private stopUnit(slot: Slot, budgetMs: number): void {
    if (slot.stopCalled) return;
    slot.stopCalled = true;
    slot.state = 'stopping';
    slot.stopped = slot.unit.stop(budgetMs).catch((error: unknown) => {
      this.exitCode = 1;
      this.logger.error({ unit: slot.unit.name, err: errorText(error) }, 'A unit did not stop cleanly');
    });
  }

  private fail(unit: string, what: string, error: unknown): void {
    this.exitCode = 1;
    this.logger.error({ unit, ...(error === undefined ? {} : { err: errorText(error) }) }, `Unit ${unit} ${what}`);
    this.shutdown.begin(`unit ${unit} ${what}`);
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
