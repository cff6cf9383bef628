import { waitFor } from '../../support/fault-kafka';
import { validOrders } from '../../support/fault-payloads';
import { SESSION_TIMEOUT_S, SinkKind } from '../../support/fault-service';
import { BATCHED_DUPLICATES, FaultSuite, scenarioId, secondsSince } from './fault-suite';

const ORDERS = 10_000;
/** Published in small chunks at a steady pace, so that the restart hits a producer in mid-stream. */
const CHUNK = 100;
const CHUNK_INTERVAL_MS = 150;

/**
 * F2: the broker is stopped and started again on the same data while orders are being produced
 * and consumed. The idempotent producer (acks = all) retries through the outage and delivers
 * every order exactly once to the topic; the consumer reconnects by itself and loses nothing.
 */
export const brokerRestart = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('F2', sink);
  it(`${id}: broker restarted mid-run (${sink} sink): the producer delivers everything, the consumer reconnects, 0 lost`, async () => {
    const started = Date.now();
    const lane = await suite.lane(id, sink);
    const cases = validOrders(ORDERS, { seed: 202, runId: lane.group, prefix: lane.prefix });
    const consumer = suite.consumer(`${id}-consumer`, lane);
    const commits = suite.watchCommits(lane);
    await waitFor(() => consumer.hasLogged(/Kafka subscription assigned partitions/), 120_000, () => 'the consumer to join its group');

    // One producer for the whole stream: its publishes must survive the restart, not be retried by the test.
    const producer = suite.feed(lane, cases, { chunk: CHUNK, intervalMs: CHUNK_INTERVAL_MS });
    await producer.until(ORDERS * 0.3, 120_000);
    const publishedBeforeStop = producer.published;
    const stoppedAt = Date.now();
    await suite.stack.stopKafka();
    await suite.stack.startKafka();
    const back = Date.now();

    const ends = await suite.positionsWhenDone(lane, producer);
    await commits.untilCaughtUp(ends, 240_000);
    const serviceDuplicates = await consumer.metric('orderflow_orders_duplicate_total');
    const restarted = consumer.hasLogged(/Kafka consumer crashed; kafkajs restarts it/);
    expect(consumer.running).toBe(true);
    expect(await consumer.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: ORDERS, archived: ORDERS, lost: 0, deadLettered: 0 });
    // One process saw the whole run, so its duplicate counter must agree with the store.
    expect(serviceDuplicates).toBe(ledger.duplicates);

    suite.record({
      id,
      title: `Kafka broker restarted mid-run, ${sink} sink`,
      faults: `broker stopped and restarted on the same data (down ${((back - stoppedAt) / 1000).toFixed(1)} s) while producing`,
      ledger,
      recoverySeconds: commits.recoverySeconds(back, ends),
      serviceDuplicates,
      notes: [
        `The broker went down after ${publishedBeforeStop.toLocaleString('en-US')} of ${ORDERS.toLocaleString('en-US')} orders were published;`,
        'the idempotent producer (acks = all) held the rest and delivered every order exactly once (the topic holds exactly what was',
        'sent). The consumer kept its process and recovered by itself:',
        restarted
          ? `the outage outlasted kafkajs's retries, so kafkajs restarted the consumer, whose join waited for its previous membership to expire (the ${SESSION_TIMEOUT_S} s session timeout); it then redelivered what had been written but not committed when the broker went away.`
          : 'kafkajs reconnected within its retries and the consumer carried on in the same group generation.',
        ...(sink === 'batched' ? [BATCHED_DUPLICATES] : []),
      ],
      durationSeconds: secondsSince(started),
    });
  }, 8 * 60_000);
};
