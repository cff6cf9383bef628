import { EventEmitter } from 'node:events';
import { drainBudget, exitCodeFor, GracefulShutdown } from '../../../src/main/graceful-shutdown';
import { LoggerSpy } from '../../support/logger-spy';

/** A shutdown on a fake process: signals are emitted by the test, exits are recorded, time is set by hand. */
const aShutdown = (deadlineMs = 10_000) => {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const logger = new LoggerSpy();
  let now = 1_000;
  const shutdown = new GracefulShutdown({
    logger,
    deadlineMs,
    signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
    exit: (code) => void exits.push(code),
    now: () => now,
  });
  return { shutdown, signals, exits, logger, advance: (ms: number) => void (now += ms) };
};

/** A pipeline stand-in that records the drain budget it was given and finishes when told to. */
const aDrainable = () => {
  const budgets: number[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return { budgets, finish, stop: (budget: number) => (budgets.push(budget), finished) };
};

describe('GracefulShutdown', () => {
  afterEach(() => jest.useRealTimers());

  it('drains the attached pipeline on the first signal, giving it the deadline less the reserve', async () => {
    const { shutdown, signals, exits, logger } = aShutdown(20_000);
    const pipeline = aDrainable();
    shutdown.attach(pipeline);
    expect(pipeline.budgets).toEqual([]);

    signals.emit('SIGTERM', 'SIGTERM');
    expect(shutdown.requested).toBe(true);
    expect(pipeline.budgets).toEqual([15_000]);
    expect(logger.hasLogged(/Shutting down: draining in-flight orders/)).toBe(true);

    let drained = false;
    void shutdown.drained.then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    pipeline.finish();
    await shutdown.drained;
    expect(exits).toEqual([]);
    shutdown.dispose();
  });

  it('remembers a signal that came during start-up and stops the pipeline once it is attached, with what is left of the deadline', () => {
    const { shutdown, signals, logger, advance } = aShutdown(20_000);
    signals.emit('SIGINT', 'SIGINT');
    expect(shutdown.requested).toBe(true);
    expect(logger.hasLogged(/Shutting down during start-up/)).toBe(true);

    advance(8_000);
    const pipeline = aDrainable();
    shutdown.attach(pipeline);
    // 12 s left: the drain gets 12 s less a quarter of it.
    expect(pipeline.budgets).toEqual([9_000]);
    shutdown.dispose();
  });

  it('exits at once with 128 + the signal number on a second signal', () => {
    const { shutdown, signals, exits, logger } = aShutdown();
    shutdown.attach(aDrainable());
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([143]);
    expect(logger.hasLogged(/Second signal: exiting now/)).toBe(true);
    shutdown.dispose();
  });

  it('exits with 1 when the drain outlives the deadline', () => {
    jest.useFakeTimers();
    const { shutdown, signals, exits, logger } = aShutdown(4_000);
    shutdown.attach(aDrainable());
    signals.emit('SIGTERM', 'SIGTERM');
    jest.advanceTimersByTime(3_999);
    expect(exits).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(exits).toEqual([1]);
    expect(logger.hasLogged(/Shutdown deadline passed/)).toBe(true);
    shutdown.dispose();
  });

  it('stops listening and cancels the deadline when disposed', () => {
    jest.useFakeTimers();
    const { shutdown, signals, exits } = aShutdown(4_000);
    signals.emit('SIGTERM', 'SIGTERM');
    shutdown.dispose();
    jest.advanceTimersByTime(10_000);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    expect(exits).toEqual([]);
  });

  it('begins a shutdown without a signal: the same drain within the same deadline', () => {
    jest.useFakeTimers();
    const { shutdown, exits, logger, advance } = aShutdown(20_000);
    const pipeline = aDrainable();
    shutdown.attach(pipeline);
    expect(shutdown.remainingMs).toBe(20_000);

    shutdown.begin('unit payments failed');
    expect(shutdown.requested).toBe(true);
    expect(pipeline.budgets).toEqual([15_000]);
    expect(logger.hasLogged(/^Shutting down: unit payments failed$/)).toBe(true);
    shutdown.begin('unit stock failed');
    expect(pipeline.budgets).toEqual([15_000]);

    advance(6_000);
    expect(shutdown.remainingMs).toBe(14_000);
    jest.advanceTimersByTime(20_000);
    expect(exits).toEqual([1]);
    shutdown.dispose();
  });

  it('lets a signal join a shutdown that began without one; only a second signal exits at once', () => {
    const { shutdown, signals, exits, logger } = aShutdown();
    shutdown.attach(aDrainable());
    shutdown.begin('unit payments failed');
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([]);
    expect(logger.hasLogged(/Signal during the shutdown: it goes on/)).toBe(true);
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
    shutdown.dispose();
  });

  it('keeps a quarter of the deadline, at most 5 s, for commit and leave', () => {
    expect(drainBudget(4_000)).toBe(3_000);
    expect(drainBudget(30_000)).toBe(25_000);
    expect(drainBudget(0)).toBe(0);
    expect(exitCodeFor('SIGINT')).toBe(130);
  });
});
