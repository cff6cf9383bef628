import { waitFor } from '../../support/fault-kafka';
import { validOrders } from '../../support/fault-payloads';
import { CliProcess, SinkKind, SESSION_TIMEOUT_S } from '../../support/fault-service';
import { assignments, BATCHED_DUPLICATES, FaultSuite, lastAssignment, scenarioId, secondsSince } from './fault-suite';

const ORDERS = 8_000;
/** What the other member must commit while the frozen one is away: more than a batch on every partition. */
const COMMITTED_WHILE_FROZEN = 3_000;


/**
 * F7 (issue 9, item 1): a member frozen past its session timeout while it holds open batches.
 *
 * A and B share the group. A is frozen with SIGSTOP while orders flow, so it holds messages (and,
 * with the batched sink, open batches) it cannot finish. The group expires A's session and gives
 * its partitions to B, which writes and commits well past what A holds, and then stops. Resumed
 * with SIGCONT, A finds it was dropped (UNKNOWN_MEMBER_ID; kafkajs rejoins without a REBALANCING
 * event) and gets every partition back at B's committed positions, beyond its stale batches.
 * B leaves before A resumes so that A is sure to get its own partitions back: with both members
 * in the group the assignor would give them back only half of the time.
 *
 * Before deliveries carried their generation, A extended its stale batches with the new
 * generation's messages and rewrote B's objects with a gap in them: committed orders lost.
 */
export const sessionExpiry = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('F7', sink);
  it(`${id}: a consumer frozen past its session timeout (${sink} sink): its stale work is dropped on resume, 0 lost`, async () => {
    const started = Date.now();
    const lane = await suite.lane(id, sink);
    const cases = validOrders(ORDERS, { seed: 707, runId: lane.group, prefix: lane.prefix });
    const [frozen, other] = await suite.twoMembers(id, lane);
    const frozenPartitions = lastAssignment(frozen)!;
    const generationBefore = assignments(frozen).at(-1)!.generation;

    const commits = suite.watchCommits(lane);
    const producer = suite.feed(lane, cases);
    await commits.until(ORDERS * 0.15, 180_000);
    expect(producer.published).toBeLessThan(ORDERS);
    frozen.kill('SIGSTOP');
    const frozenAt = Date.now();
    const committedAtFreeze = commits.total;

    // The group drops A after its session timeout; B takes all six and commits past A's positions.
    await waitFor(() => lastAssignment(other)?.length === 6, 120_000, () => `B to be given all partitions (it has ${lastAssignment(other)})`);
    await commits.until(committedAtFreeze + COMMITTED_WHILE_FROZEN, 180_000);
    // The broker expires the session one timeout after the last heartbeat, which may have come up
    // to one heartbeat interval (a third of the timeout) before the freeze.
    expect(Date.now() - frozenAt).toBeGreaterThan((SESSION_TIMEOUT_S * 1000 * 2) / 3);
    expect(await other.stop()).toEqual({ code: 0, signal: null });

    frozen.kill('SIGCONT');
    const resumedAt = Date.now();
    await waitFor(() => lastAssignment(frozen)?.length === 6, 120_000, () => `A to rejoin with all partitions (it has ${lastAssignment(frozen)})`);
    // A learnt late: its later generation was announced, and its held work revoked first.
    expect(assignments(frozen).at(-1)!.generation).toBeGreaterThan(generationBefore);

    const ends = await suite.positionsWhenDone(lane, producer);
    await commits.untilCaughtUp(ends, 240_000);
    expect(await frozen.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: ORDERS, archived: ORDERS, lost: 0, deadLettered: 0 });

    suite.record({
      id,
      title: `a consumer frozen past its session timeout, ${sink} sink`,
      faults: '`kill -STOP` of one of two consumers for longer than its session timeout, then `kill -CONT`',
      ledger,
      recoverySeconds: commits.recoverySeconds(resumedAt, ends),
      notes: [
        `The frozen consumer owned partitions ${frozenPartitions.join(', ')} and was stopped at 15 % of the orders committed, holding messages it could not finish.`,
        `The group expired it after its ${SESSION_TIMEOUT_S} s session timeout; the other consumer took all six partitions, committed ${COMMITTED_WHILE_FROZEN.toLocaleString('en-US')} more orders and stopped.`,
        'Resumed, the frozen consumer was told UNKNOWN_MEMBER_ID, rejoined, dropped what it held from its old generation and resumed every partition from the committed positions.',
        ...(sink === 'batched' ? [BATCHED_DUPLICATES] : []),
      ],
      durationSeconds: secondsSince(started),
    });
  }, 10 * 60_000);
};
