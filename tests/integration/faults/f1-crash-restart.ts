import { SESSION_TIMEOUT_S, SinkKind } from '../../support/fault-service';
import { validOrders } from '../../support/fault-payloads';
import { BATCHED_DUPLICATES, FaultSuite, scenarioId, secondsSince } from './fault-suite';

const ORDERS = 20_000;
/** Kill when the group has committed these shares of the orders: early, midway and late in the run. */
const KILL_AT = [0.2, 0.45, 0.7];

/**
 * F1: `kill -9` of the consumer process, three times while it works through 20,000 orders, each
 * time restarted at once. Whatever the killed process had written but not committed is delivered
 * again and rewritten under the same key; nothing is lost, and no key appears twice.
 */
export const crashAndRestart = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('F1', sink);
  it(`${id}: kill -9 of the consumer three times during 20,000 orders (${sink} sink): every order once by name, 0 lost, duplicates counted`, async () => {
    const started = Date.now();
    const lane = await suite.lane(id, sink);
    const cases = validOrders(ORDERS, { seed: 101, runId: lane.group, prefix: lane.prefix });
    // Fed while the consumer works, so every kill lands in mid-stream whatever the sink's speed.
    const producer = suite.feed(lane, cases);

    const commits = suite.watchCommits(lane);
    const kills: number[] = [];
    let consumer = suite.consumer(`${id}-consumer-0`, lane);
    for (const share of KILL_AT) {
      await commits.until(Math.floor(ORDERS * share), 240_000);
      consumer.kill('SIGKILL');
      expect(await consumer.exited).toEqual({ code: null, signal: 'SIGKILL' });
      kills.push(Date.now());
      consumer = suite.consumer(`${id}-consumer-${kills.length}`, lane);
    }
    const ends = await suite.positionsWhenDone(lane, producer);
    await commits.untilCaughtUp(ends, 240_000);
    expect(await consumer.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: ORDERS, archived: ORDERS, lost: 0, deadLettered: 0 });

    const recoveries = kills.map((killedAt) => commits.recoverySeconds(killedAt, ends));
    suite.record({
      id,
      title: `consumer killed (\`kill -9\`) and restarted, ${sink} sink`,
      faults: `${kills.length} × \`kill -9\` of the consumer process, restarted at once`,
      ledger,
      recoverySeconds: Math.max(...recoveries),
      notes: [
        `Killed at ${KILL_AT.map((share) => `${share * 100} %`).join(', ')} of the orders committed; commits resumed`,
        `${recoveries.map((s) => `${s.toFixed(1)} s`).join(', ')} after the kills (the worst is shown).`,
        `Almost all of it is the group waiting for the dead member's ${SESSION_TIMEOUT_S} s session (KAFKA_SESSION_TIMEOUT_MS) to expire before it hands its partitions to the`,
        'new process. The duplicates are what the killed processes had written but not yet committed (at most the in-flight bound',
        'plus one commit interval each); a new process cannot know what its predecessor wrote, so only the store can count them.',
        ...(sink === 'batched' ? [BATCHED_DUPLICATES] : []),
      ],
      durationSeconds: secondsSince(started),
    });
  }, 12 * 60_000);
};
