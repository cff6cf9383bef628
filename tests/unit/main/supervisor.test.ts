import { EventEmitter } from 'node:events';
import { ReadinessCheck } from '../../../src/application/ports/lifecycle.port';
import { Resources } from '../../../src/application/resources';
import { RunningUnit, SupervisedUnit, Supervisor } from '../../../src/main/supervisor';
import { LifecycleSpy } from '../../support/lifecycle-spy';
import { LoggerSpy } from '../../support/logger-spy';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

const deferred = <T>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  // A rejection the supervisor never looks at (a unit that was not started) must not fail the test run.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
};

/** Lets the promise chains the supervisor runs on settle, without the timers (which may be fake). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/**
 * A unit the test drives: it starts, fails or ends when told to, and records each stop with its
 * budget. By default a stop drains at once (stop and done resolve); `drainsAtOnce = false` holds it.
 */
class UnitSpy implements SupervisedUnit {
  readonly budgets: number[] = [];
  readiness: ReadinessCheck[] = [];
  drainsAtOnce = true;
  private readonly starting = deferred<RunningUnit>();
  private readonly running = deferred<void>();
  private readonly stopping = deferred<void>();

  constructor(
    readonly name: string,
    private readonly calls: string[],
  ) {}

  start(): Promise<RunningUnit> {
    this.calls.push(`start ${this.name}`);
    return this.starting.promise;
  }

  stop(budgetMs: number): Promise<void> {
    this.calls.push(`stop ${this.name}`);
    this.budgets.push(budgetMs);
    if (this.drainsAtOnce) this.finishDrain();
    return this.stopping.promise;
  }

  started(): void {
    this.starting.resolve({ done: this.running.promise });
  }

  cannotStart(error: Error): void {
    this.starting.reject(error);
  }

  fails(error: Error): void {
    this.running.reject(error);
  }

  endsByItself(): void {
    this.running.resolve();
  }

  finishDrain(): void {
    this.stopping.resolve();
    this.running.resolve();
  }

  stopFails(error: Error): void {
    this.stopping.reject(error);
    this.running.resolve();
  }
}

/** A supervisor on a fake process: signals emitted by the test, exits recorded, time set by hand. */
const aSupervisor = (unitNames: readonly string[], options: { deadlineMs?: number; resources?: readonly string[] } = {}) => {
  const calls: string[] = [];
  const signals = new EventEmitter();
  const exits: number[] = [];
  const logger = new LoggerSpy();
  let now = 1_000;
  const units = unitNames.map((name) => new UnitSpy(name, calls));
  const lifecycles = (options.resources ?? []).map((name) => new LifecycleSpy(name, calls));
  const resources = new Resources(
    lifecycles.map((spy) => ({ name: spy.name, resource: spy })),
    logger,
  );
  const supervisor = new Supervisor({
    logger,
    deadlineMs: options.deadlineMs ?? 20_000,
    units,
    resources,
    signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
    exit: (code) => void exits.push(code),
    now: () => now,
  });
  const outcome = (run: Promise<number>) => {
    let code: number | undefined;
    void run.then((c) => (code = c));
    return () => code;
  };
  return { supervisor, units, lifecycles, calls, signals, exits, logger, outcome, advance: (ms: number) => void (now += ms) };
};

// Everything here runs on promises the test settles: a test that waits longer has hung.
jest.setTimeout(5_000);

describe('Supervisor', () => {
  afterEach(() => jest.useRealTimers());

  it('starts the resources in order, then every unit at once, and closes the resources in reverse after the units ended', async () => {
    const { supervisor, units, calls, signals } = aSupervisor(['orders', 'payments'], { resources: ['archive', 'kafka'] });
    const run = supervisor.run();
    await flush();
    expect(calls).toEqual(['start archive', 'start kafka', 'start orders', 'start payments']);
    units.forEach((unit) => unit.started());
    await flush();

    signals.emit('SIGTERM', 'SIGTERM');
    expect(await run).toBe(0);
    expect(calls.slice(4)).toEqual(['stop orders', 'stop payments', 'close kafka', 'close archive']);
  });

  it('is ready only once every unit runs, its own checks pass and the resources are ready', async () => {
    const { supervisor, units, lifecycles, signals } = aSupervisor(['orders', 'payments'], { resources: ['kafka'] });
    const [orders, payments] = units as [UnitSpy, UnitSpy];
    let lagging = true;
    orders.readiness = [
      {
        name: 'lag',
        check: async () => {
          if (lagging) throw new Error('12 partitions not assigned');
        },
      },
    ];
    const reasons = async () =>
      Promise.all(supervisor.readiness.map(async ({ name, check }) => [name, await check().then(() => 'ok', (e: Error) => e.message)]));

    expect(await reasons()).toEqual([
      ['units', 'unit orders is waiting; unit payments is waiting'],
      ['orders/lag', 'unit orders is waiting'],
      ['kafka', 'ok'],
    ]);
    const run = supervisor.run();
    await flush();
    orders.started();
    await flush();
    expect(await reasons()).toEqual([
      ['units', 'unit payments is starting'],
      ['orders/lag', '12 partitions not assigned'],
      ['kafka', 'ok'],
    ]);
    payments.started();
    lagging = false;
    await flush();
    await expect(supervisor.ready()).resolves.toBeUndefined();

    lifecycles[0]!.failReady = new Error('no Kafka broker answered at 127.0.0.1:1');
    await expect(supervisor.ready()).rejects.toThrow('no Kafka broker answered at 127.0.0.1:1');
    signals.emit('SIGTERM', 'SIGTERM');
    await run;
    await expect(supervisor.ready()).rejects.toThrow('unit orders is ended; unit payments is ended');
  });

  it('drains every running unit together on SIGTERM, each with the deadline less the reserve', async () => {
    const { supervisor, units, signals, logger, outcome } = aSupervisor(['orders', 'payments', 'stock'], { deadlineMs: 20_000 });
    const code = outcome(supervisor.run());
    await flush();
    units.forEach((unit) => {
      unit.drainsAtOnce = false;
      unit.started();
    });
    await flush();

    signals.emit('SIGTERM', 'SIGTERM');
    await flush();
    // All three were asked at once, none waiting for another's drain.
    expect(units.map((unit) => unit.budgets)).toEqual([[15_000], [15_000], [15_000]]);
    units[0]!.finishDrain();
    units[1]!.finishDrain();
    await flush();
    expect(code()).toBeUndefined();
    units[2]!.finishDrain();
    await flush();
    expect(code()).toBe(0);
    expect(logger.messages('info').filter((message) => message === 'Unit stopped')).toHaveLength(3);
  });

  it('stops a unit still starting when the signal came as soon as it has started, with what is left of the deadline', async () => {
    const { supervisor, units, signals, advance } = aSupervisor(['orders', 'payments'], { deadlineMs: 20_000 });
    const [orders, payments] = units as [UnitSpy, UnitSpy];
    const run = supervisor.run();
    await flush();
    orders.started();
    await flush();

    signals.emit('SIGINT', 'SIGINT');
    await flush();
    expect(orders.budgets).toEqual([15_000]);
    expect(payments.budgets).toEqual([]);
    advance(8_000);
    payments.started();
    await flush();
    // 12 s left: the drain gets 12 s less a quarter of it.
    expect(payments.budgets).toEqual([9_000]);
    expect(await run).toBe(0);
  });

  it('stops all the other units on the first fatal error, drained within the deadline, and resolves 1', async () => {
    const { supervisor, units, logger } = aSupervisor(['orders', 'payments', 'stock'], { deadlineMs: 20_000 });
    const [orders, payments, stock] = units as [UnitSpy, UnitSpy, UnitSpy];
    const run = supervisor.run();
    await flush();
    units.forEach((unit) => unit.started());
    await flush();

    payments.fails(new Error('The consumer crashed: GROUP_AUTHORIZATION_FAILED'));
    await flush();
    expect(orders.budgets).toEqual([15_000]);
    expect(stock.budgets).toEqual([15_000]);
    expect(payments.budgets).toEqual([]);
    expect(await run).toBe(1);
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: 'Unit payments failed',
      fields: { unit: 'payments', err: 'The consumer crashed: GROUP_AUTHORIZATION_FAILED' },
    });
    expect(logger.hasLogged(/^Shutting down: unit payments failed$/)).toBe(true);
  });

  it('logs a second failure during the drain too, and still stops the rest', async () => {
    const { supervisor, units, logger } = aSupervisor(['orders', 'payments', 'stock']);
    const [orders, payments, stock] = units as [UnitSpy, UnitSpy, UnitSpy];
    const run = supervisor.run();
    await flush();
    units.forEach((unit) => {
      unit.drainsAtOnce = false;
      unit.started();
    });
    await flush();
    payments.fails(new Error('first'));
    await flush();
    orders.fails(new Error('second, while draining'));
    orders.finishDrain();
    stock.finishDrain();
    expect(await run).toBe(1);
    expect(logger.messages('error')).toEqual(['Unit payments failed', 'Unit orders failed while stopping']);
  });

  it('never stops a unit that could not start, and stops the ones that did', async () => {
    const { supervisor, units, logger } = aSupervisor(['orders', 'payments']);
    const [orders, payments] = units as [UnitSpy, UnitSpy];
    const run = supervisor.run();
    await flush();
    orders.started();
    payments.cannotStart(new Error('Kafka: consuming payments.v1 failed: not authorized'));
    expect(await run).toBe(1);
    expect(orders.budgets).toHaveLength(1);
    expect(payments.budgets).toEqual([]);
    expect(logger.messages('error')).toEqual(['Unit payments could not start']);
  });

  it('counts a unit that ends without being asked to stop as a failure', async () => {
    const { supervisor, units, logger } = aSupervisor(['orders', 'payments']);
    const [orders, payments] = units as [UnitSpy, UnitSpy];
    const run = supervisor.run();
    await flush();
    units.forEach((unit) => unit.started());
    await flush();
    orders.endsByItself();
    expect(await run).toBe(1);
    expect(orders.budgets).toEqual([]);
    expect(payments.budgets).toHaveLength(1);
    expect(logger.messages('error')).toEqual(['Unit orders ended without being asked to stop']);
  });

  it('resolves 1 when a unit does not stop cleanly', async () => {
    const { supervisor, units, signals, logger } = aSupervisor(['orders']);
    const [orders] = units as [UnitSpy];
    orders.drainsAtOnce = false;
    const run = supervisor.run();
    await flush();
    orders.started();
    await flush();
    signals.emit('SIGTERM', 'SIGTERM');
    orders.stopFails(new Error('commit failed: coordinator not available'));
    expect(await run).toBe(1);
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: 'A unit did not stop cleanly',
      fields: { unit: 'orders', err: 'commit failed: coordinator not available' },
    });
  });

  it('exits at once with 128 + the signal number on a second signal', async () => {
    const { supervisor, units, signals, exits } = aSupervisor(['orders']);
    units[0]!.drainsAtOnce = false;
    void supervisor.run();
    await flush();
    units[0]!.started();
    await flush();
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([143]);
  });

  it('lets a signal join the drain a failure began; a second signal exits at once', async () => {
    const { supervisor, units, signals, exits } = aSupervisor(['orders', 'payments']);
    const [orders, payments] = units as [UnitSpy, UnitSpy];
    payments.drainsAtOnce = false;
    void supervisor.run();
    await flush();
    units.forEach((unit) => unit.started());
    await flush();
    orders.fails(new Error('boom'));
    await flush();
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([]);
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
  });

  it('exits 1 when the drain outlives the deadline, after a signal or a failure alike', async () => {
    jest.useFakeTimers();
    for (const cause of ['signal', 'failure'] as const) {
      const { supervisor, units, signals, exits, logger } = aSupervisor(['orders', 'payments'], { deadlineMs: 4_000 });
      const [orders, payments] = units as [UnitSpy, UnitSpy];
      payments.drainsAtOnce = false;
      void supervisor.run();
      await flush();
      units.forEach((unit) => unit.started());
      await flush();
      if (cause === 'signal') signals.emit('SIGTERM', 'SIGTERM');
      else orders.fails(new Error('boom'));
      await flush();
      jest.advanceTimersByTime(3_999);
      expect(exits).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(exits).toEqual([1]);
      expect(logger.hasLogged(/Shutdown deadline passed/)).toBe(true);
    }
  });

  it('starts no unit after a signal that came while the resources started, resolves 0 and closes them', async () => {
    const { supervisor, calls, signals, logger } = aSupervisor(['orders'], { resources: ['kafka'] });
    signals.emit('SIGTERM', 'SIGTERM');
    expect(supervisor.requested).toBe(true);
    expect(await supervisor.run()).toBe(0);
    expect(calls).toEqual(['start kafka', 'close kafka']);
    expect(logger.hasLogged(/Stopped before any unit started/)).toBe(true);
  });

  it('starts no unit when the resources cannot start, resolves 1 and closes them all', async () => {
    const { supervisor, lifecycles, calls, logger } = aSupervisor(['orders'], { resources: ['archive', 'kafka'] });
    lifecycles[1]!.failStart = new Error('Kafka: connecting the admin client failed: no Kafka broker answered at 127.0.0.1:1');
    expect(await supervisor.run()).toBe(1);
    expect(calls).toEqual(['start archive', 'start kafka', 'close kafka', 'close archive']);
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: 'Could not start the resources; no unit was started',
      fields: { err: 'Kafka: connecting the admin client failed: no Kafka broker answered at 127.0.0.1:1' },
    });
  });

  it('stops listening for signals once run() is over, and close() is idempotent', async () => {
    const { supervisor, units, signals, calls } = aSupervisor(['orders'], { resources: ['kafka'] });
    const run = supervisor.run();
    await flush();
    units[0]!.started();
    await flush();
    signals.emit('SIGTERM', 'SIGTERM');
    await run;
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    await supervisor.close();
    expect(calls.filter((call) => call === 'close kafka')).toHaveLength(1);
    await expect(supervisor.run()).rejects.toThrow('Supervisor.run: a supervisor runs once');
  });

  it('closes the resources and stops listening when a command gives up before run()', async () => {
    const { supervisor, calls, signals } = aSupervisor(['orders'], { resources: ['kafka'] });
    await supervisor.close();
    expect(calls).toEqual(['close kafka']);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('refuses two units under one name', () => {
    expect(() => aSupervisor(['orders', 'orders'])).toThrow('Supervisor: two units are named "orders"');
  });
});
