import { waitFor } from '../../support/fault-kafka';
import { validOrders } from '../../support/fault-payloads';
import { SESSION_TIMEOUT_S, SinkKind } from '../../support/fault-service';
import { FaultSuite, scenarioId, secondsSince } from './fault-suite';

/**
 * S1 and S2: how `consume` ends. SIGTERM drains the in-flight orders, commits and leaves the
 * group, so the next consumer starts exactly where it stopped. A second SIGTERM exits at once,
 * and so does the deadline; whatever was not committed is then simply delivered again.
 */
export const gracefulShutdown = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('S1', sink);
  it(`${id}: SIGTERM mid-run drains, commits and leaves the group (${sink} sink): the restart rewrites nothing and loses nothing`, async () => {
    const started = Date.now();
    const orders = 10_000;
    const lane = await suite.lane(id, sink);
    const cases = validOrders(orders, { seed: 707, runId: lane.group, prefix: lane.prefix });
    const producer = suite.feed(lane, cases);
    const commits = suite.watchCommits(lane);

    const first = suite.consumer(`${id}-consumer-0`, lane);
    await commits.until(orders * 0.4, 180_000);
    const signalled = Date.now();
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const shutdownSeconds = secondsSince(signalled);
    // Left the group rather than waiting to be expired: nobody is a member any more.
    expect(await suite.kafka.groupState(lane.group)).toEqual({ state: 'Empty', members: 0 });
    // Drained and committed: the store holds exactly the orders below the committed positions.
    const committed = await suite.kafka.committed(lane.group, lane.ordersTopic);
    const records = await suite.kafka.readAll(lane.ordersTopic);
    const stored = await suite.storedKeys(lane, cases, records);
    const keyOf = new Map(cases.map((c) => [c.message.key as string, c.expect.key]));
    const belowCommit = records.filter((r) => r.offset < committed[r.partition]!).map((r) => keyOf.get(r.key!.toString())!);
    expect(belowCommit.length).toBeGreaterThan(0);
    expect(stored.sort()).toEqual(belowCommit.sort());

    const second = suite.consumer(`${id}-consumer-1`, lane);
    const ends = await suite.positionsWhenDone(lane, producer);
    await commits.untilCaughtUp(ends, 180_000);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: orders, archived: orders, lost: 0, duplicates: 0 });
    suite.record({
      id,
      title: `graceful shutdown (SIGTERM) and restart, ${sink} sink`,
      faults: 'SIGTERM mid-run, then a new consumer',
      ledger,
      notes: [
        `SIGTERM at ${Math.round((belowCommit.length / orders) * 100)} % of the orders: the process drained, committed and left the group in`,
        `${shutdownSeconds.toFixed(1)} s (exit code 0; the group was empty at once rather than after a ${SESSION_TIMEOUT_S} s session timeout). The store`,
        'then held exactly the orders below the committed offsets, so the next consumer rewrote nothing.',
      ],
      durationSeconds: secondsSince(started),
    });
  }, 8 * 60_000);

};

export const shutdownDeadline = (suite: FaultSuite): void => {
  it('S2: the shutdown deadline bounds a drain that hangs, a second SIGTERM exits at once, and nothing is lost', async () => {
    const started = Date.now();
    const orders = 5_000;
    const deadlineMs = 4_000;
    const lane = await suite.lane('S2');
    const cases = validOrders(orders, { seed: 808, runId: lane.group, prefix: lane.prefix });
    await suite.kafka.publish(lane.ordersTopic, cases.map((c) => c.message));
    const ends = await suite.kafka.ends(lane.ordersTopic);
    const commits = suite.watchCommits(lane);

    // Each consumer is stopped while it works, right after the store hangs: its writes in flight
    // neither succeed nor fail, so only the deadline, or a second signal, can end its drain.
    const bounded = suite.consumer('S2-consumer-deadline', lane, { ORDERFLOW_SHUTDOWN_DEADLINE_MS: String(deadlineMs) });
    await commits.until(orders * 0.2, 180_000);
    const deadlineExit = await stopWithStoreFrozen(suite, async () => {
      const signalled = Date.now();
      bounded.kill('SIGTERM');
      const exit = await bounded.waitForExit(60_000);
      return { exit, seconds: secondsSince(signalled) };
    });
    expect(deadlineExit.exit.signal).toBeNull();
    // 0 when commit and leave fitted in the reserve after the drain's share, 1 when the deadline itself ended the process.
    expect([0, 1]).toContain(deadlineExit.exit.code);
    expect(bounded.hasLogged(/still in flight at the stop deadline|Shutdown deadline passed/)).toBe(true);

    // Signalled only once it has committed work of its own: a fixed share of the whole run could
    // already have been reached by the first consumer, and the signal would then meet a process
    // that is still starting, which stops without a drain to interrupt.
    const committedBefore = (await suite.kafka.committed(lane.group, lane.ordersTopic)).reduce((sum, position) => sum + position, 0);
    const impatient = suite.consumer('S2-consumer-second-signal', lane, { ORDERFLOW_SHUTDOWN_DEADLINE_MS: '120000' });
    await commits.until(committedBefore + orders * 0.15, 180_000);
    const secondSignalExit = await stopWithStoreFrozen(suite, async () => {
      impatient.kill('SIGTERM');
      await waitFor(() => impatient.hasLogged(/Shutting down: draining/), 30_000, () => 'the first SIGTERM to start the drain');
      expect(impatient.running).toBe(true);
      const signalled = Date.now();
      impatient.kill('SIGTERM');
      const exit = await impatient.waitForExit(60_000);
      return { exit, ms: Date.now() - signalled };
    });
    // 128 + 15: the exit of the second signal, not of a drain that finished or a deadline that passed.
    expect(secondSignalExit.exit).toEqual({ code: 143, signal: null });
    expect(impatient.hasLogged(/Second signal: exiting now/)).toBe(true);

    const last = suite.consumer('S2-consumer-last', lane);
    await commits.untilCaughtUp(ends, 180_000);
    expect(await last.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: orders, archived: orders, lost: 0 });
    suite.record({
      id: 'S2',
      title: 'shutdown deadline, and a second SIGTERM',
      faults: 'store frozen (SIGSTOP) while two consumers were being stopped',
      ledger,
      notes: [
        `With a ${deadlineMs / 1000} s deadline, the consumer gave up on its hanging writes and exited by itself ${deadlineExit.seconds.toFixed(1)} s`,
        `after SIGTERM (exit code ${deadlineExit.exit.code}). With a 120 s deadline, a second SIGTERM ended the drain`,
        `${secondSignalExit.ms} ms after it was sent (exit code 143). The orders both had in flight were delivered again to the`,
        'third consumer.',
      ],
      durationSeconds: secondsSince(started),
    });
  }, 8 * 60_000);
};

/** Runs `stop` with MinIO frozen (SIGSTOP), and thaws it afterwards whatever happened. */
const stopWithStoreFrozen = async <T>(suite: FaultSuite, stop: () => Promise<T>): Promise<T> => {
  suite.stack.signalMinio('SIGSTOP');
  try {
    return await stop();
  } finally {
    suite.stack.signalMinio('SIGCONT');
  }
};
