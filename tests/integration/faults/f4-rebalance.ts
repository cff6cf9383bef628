import { waitFor } from '../../support/fault-kafka';
import { validOrders } from '../../support/fault-payloads';
import { CliProcess, SinkKind, SESSION_TIMEOUT_S } from '../../support/fault-service';
import { FaultSuite, lastAssignment, scenarioId, secondsSince } from './fault-suite';

const ORDERS = 10_000;


/**
 * F4: two consumers share a group on a 6-partition topic; one is killed with -9 mid-run. Once the
 * group expires the dead member, the survivor is given its partitions, resumes them from their
 * committed positions, and finishes the topic.
 */
export const rebalance = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('F4', sink);
  it(`${id}: one of two consumers killed mid-run (${sink} sink): the group rebalances, the survivor finishes, 0 lost`, async () => {
    const started = Date.now();
    const lane = await suite.lane(id, sink);
    const cases = validOrders(ORDERS, { seed: 404, runId: lane.group, prefix: lane.prefix });
    const [victim, survivor] = await suite.twoMembers(id, lane);
    const victimPartitions = lastAssignment(victim)!;

    const commits = suite.watchCommits(lane);
    const producer = suite.feed(lane, cases);
    await commits.until(ORDERS * 0.3, 180_000);
    // Still being fed: every partition of the victim has work left when it dies.
    expect(producer.published).toBeLessThan(ORDERS);
    victim.kill('SIGKILL');
    expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const killedAt = Date.now();

    const ends = await suite.positionsWhenDone(lane, producer);
    await commits.untilCaughtUp(ends, 240_000);
    expect(lastAssignment(survivor)?.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await survivor.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: ORDERS, archived: ORDERS, lost: 0, deadLettered: 0 });

    suite.record({
      id,
      title: `one of two consumers in a group killed, ${sink} sink`,
      faults: '`kill -9` of one of two consumers sharing a 6-partition topic',
      ledger,
      recoverySeconds: commits.recoverySeconds(killedAt, ends, victimPartitions),
      notes: [
        `The killed consumer owned partitions ${victimPartitions.join(', ')}, killed at 30 % of the orders committed while they were still being produced.`,
        'The survivor kept its own partitions moving throughout; the victim\'s stalled until the group expired the dead member',
        `(its ${SESSION_TIMEOUT_S} s session timeout) and assigned all six to the survivor, which resumed them from their committed positions.`,
      ],
      durationSeconds: secondsSince(started),
    });
  }, 8 * 60_000);
};
