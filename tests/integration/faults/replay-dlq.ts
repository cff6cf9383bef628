import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { headerText, textHeader } from '../../../src/application/ports/message-bus.port';
import { REPLAY_SOURCE_HEADER } from '../../../src/main/commands/replay-dlq';
import { waitFor } from '../../support/fault-kafka';
import { CASE_HEADER, validOrders } from '../../support/fault-payloads';
import { FaultSuite } from './fault-suite';

const ORDERS = 200;
const UNKNOWN_CHANNEL = 15;
const NOT_JSON = 10;

/**
 * `orderflow replay-dlq` as an operator runs it (adr/0009): after the consumer dead-lettered
 * orders of a channel it did not know, the ones of that code, and only those, go to the target
 * topic exactly as they were sent; a second run finds nothing new.
 */
export const replayDeadLetters = (suite: FaultSuite): void => {
  it('replay-dlq publishes the dead letters of one code back as they were sent, once', async () => {
    const lane = await suite.lane('R1');
    const target = `${lane.ordersTopic}.replayed`;
    await suite.kafka.createTopics([target]);
    const fax = Array.from({ length: UNKNOWN_CHANNEL }, (_, i) => ({
      key: `fax-${i}`,
      value: Buffer.from(JSON.stringify({ id: `o-fax-${i}`, customer: 'C-1', total: 10, channel: 'fax' })),
      headers: [textHeader(CASE_HEADER, `fax-${i}`)],
    }));
    const garbage = Array.from({ length: NOT_JSON }, (_, i) => ({ key: `garbage-${i}`, value: Buffer.from(`{"id": "o-${i}"`) }));
    const orders = validOrders(ORDERS, { seed: 909, runId: lane.group, prefix: lane.prefix }).map((c) => c.message);
    await suite.kafka.publish(lane.ordersTopic, [...orders, ...fax, ...garbage]);
    const ends = await suite.kafka.ends(lane.ordersTopic);

    const consumer = suite.consumer('r1-consumer', lane);
    const commits = suite.watchCommits(lane);
    await commits.untilCaughtUp(ends, 120_000);
    expect(await consumer.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const replay = () => suite.cli('r1-replay', lane, ['replay-dlq', '--code', 'ORDER.UNKNOWN_CHANNEL', '--to', target]);
    const first = replay();
    expect(await first.waitForExit(120_000)).toEqual({ code: 0, signal: null });
    expect(first.lines).toContainEqual(expect.stringMatching(new RegExp(`read\\s+${UNKNOWN_CHANNEL + NOT_JSON} dead letters`)));
    expect(first.lines).toContainEqual(expect.stringMatching(new RegExp(`replayed\\s+${UNKNOWN_CHANNEL}$`)));

    const replayed = await suite.kafka.readAll(target);
    expect(replayed.map((r) => r.key?.toString()).sort()).toEqual(fax.map((m) => m.key).sort());
    for (const record of replayed) {
      const sent = fax.find((m) => m.key === record.key?.toString())!;
      expect(record.value?.equals(sent.value)).toBe(true);
      expect(record.headers[CASE_HEADER]).toBe(headerText(sent.headers, CASE_HEADER));
      expect(record.headers[REPLAY_SOURCE_HEADER]).toMatch(new RegExp(`^${lane.dlqTopic.replace(/\./g, '\\.')}/\\d+/\\d+$`));
      expect(Object.keys(record.headers).filter((name) => name.startsWith('__connect.errors.') || name === DLQ_HEADERS.code)).toEqual([]);
    }

    const second = replay();
    expect(await second.waitForExit(120_000)).toEqual({ code: 0, signal: null });
    expect(second.lines).toContainEqual(expect.stringMatching(/replayed\s+0$/));
    expect(await suite.kafka.readAll(target)).toHaveLength(UNKNOWN_CHANNEL);

    // Replayed into the orders topic while the cause is still there: the consumer dead-letters them
    // again, after the end the replay started from, and the replay stops at that end instead of
    // replaying them forever.
    const total = async (): Promise<number> => (await suite.kafka.ends(lane.dlqTopic)).reduce((sum, end) => sum + end, 0);
    const again = suite.consumer('r1-consumer-again', lane);
    await suite.kafka.publish(lane.ordersTopic, fax);
    await waitFor(async () => (await total()) === 2 * UNKNOWN_CHANNEL + NOT_JSON, 120_000, () => 'the new dead letters');
    const loop = suite.cli('r1-replay-loop', lane, ['replay-dlq', '--code', 'ORDER.UNKNOWN_CHANNEL']);
    expect(await loop.waitForExit(120_000)).toEqual({ code: 0, signal: null });
    expect(loop.lines).toContainEqual(expect.stringMatching(new RegExp(`replayed\\s+${UNKNOWN_CHANNEL}$`)));
    await waitFor(async () => (await total()) === 3 * UNKNOWN_CHANNEL + NOT_JSON, 120_000, () => 'the replayed orders to fail again');
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  }, 5 * 60_000);
};
