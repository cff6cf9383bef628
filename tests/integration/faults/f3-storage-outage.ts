import { waitFor } from '../../support/fault-kafka';
import { validOrders } from '../../support/fault-payloads';
import { SinkKind } from '../../support/fault-service';
import { FaultSuite, scenarioId, secondsSince } from './fault-suite';

const ORDERS = 10_000;
const OUTAGE_MS = 20_000;

/**
 * F3: MinIO is stopped for 20 s mid-run and started again. The consumer holds its writes and
 * probes the store with capped backoff, commits nothing past the failure, reports not-ready, and
 * drains the backlog by itself once the store answers again. It never exits.
 */
export const storageOutage = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('F3', sink);
  it(`${id}: object store down for 20 s (${sink} sink): no commit passes the failure, /readyz goes 503 and back to 200, 0 lost, the backlog drains`, async () => {
    const started = Date.now();
    const lane = await suite.lane(id, sink);
    const cases = validOrders(ORDERS, { seed: 303, runId: lane.group, prefix: lane.prefix });
    // Half before the outage, half during it: however fast the sink, the outage meets work to hold.
    const [before, during] = [cases.slice(0, ORDERS / 2), cases.slice(ORDERS / 2)];
    await suite.kafka.publish(lane.ordersTopic, before.map((c) => c.message));
    const consumer = suite.consumer(`${id}-consumer`, lane);
    const commits = suite.watchCommits(lane);

    // /readyz as a load balancer sees it, every 250 ms, for the whole run.
    const readiness: Array<{ at: number; status: number | undefined }> = [];
    let polling = true;
    const pollReadiness = (async () => {
      while (polling) {
        readiness.push({ at: Date.now(), status: (await consumer.readiness())?.status });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const statusSince = (since: number) => readiness.filter((r) => r.at >= since).map((r) => r.status);

    await commits.until(ORDERS * 0.25, 180_000);
    await suite.stack.stopMinio();
    const down = Date.now();
    await suite.kafka.publish(lane.ordersTopic, during.map((c) => c.message));
    await waitFor(() => statusSince(down).includes(503), 30_000, () => `/readyz to report 503 during the outage (saw ${statusSince(down).join(',')})`);
    // The outage itself is the fault: it lasts its 20 s whatever the service does meanwhile.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, down + OUTAGE_MS - Date.now())));
    const committedDuringOutage = commits.samples.filter((s) => s.at >= down).length;
    await suite.stack.startMinio();
    const back = Date.now();
    await waitFor(() => statusSince(back).includes(200), 60_000, () => `/readyz to report 200 after the outage (saw ${statusSince(back).join(',')})`);
    const readyAgain = readiness.find((r) => r.at >= back && r.status === 200)!.at;

    const ends = await suite.positionsWhenDone(lane);
    await commits.untilCaughtUp(ends, 240_000);
    polling = false;
    await pollReadiness;
    expect(consumer.running).toBe(true);
    const outageLog = consumer.records().filter((r) => r.target === 'archive').map((r) => r.msg);
    expect(await consumer.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    expect(readiness.filter((r) => r.at < down).map((r) => r.status)).toContain(200);
    expect(committedDuringOutage).toBeGreaterThan(0);
    const ledger = await suite.account(lane, cases, commits.samples, { from: down, to: back });
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: ORDERS, archived: ORDERS, lost: 0, deadLettered: 0 });
    // One outage, announced once and ended once: the probes are bounded by the backoff, not one per message.
    expect(outageLog.filter((msg) => /write failed: holding/.test(String(msg)))).toHaveLength(1);
    expect(outageLog.filter((msg) => msg === 'Archive writes succeed again')).toHaveLength(1);

    suite.record({
      id,
      title: `object store (MinIO) down for 20 s, ${sink} sink`,
      faults: `MinIO stopped for ${((back - down) / 1000).toFixed(0)} s mid-run, then started on the same data`,
      ledger,
      recoverySeconds: commits.recoverySeconds(back, ends),
      notes: [
        `/readyz answered 503 ${((readiness.find((r) => r.at >= down && r.status === 503)!.at - down) / 1000).toFixed(1)} s after MinIO`,
        `went down and 200 again ${((readyAgain - back) / 1000).toFixed(1)} s after it came back. ${committedDuringOutage} observations of the`,
        'committed offsets during the outage never covered an order stored after it began. The consumer held its in-flight writes',
        `and probed the store one write at a time with capped, jittered backoff: ${outageLog.length - 2} failed probes over the`,
        'outage, and one log line each, instead of every message retrying on its own (and being replayed from Kafka).',
        ...(ledger.duplicates > 0
          ? [
              `The ${ledger.duplicates === 1 ? 'duplicate is a write' : `${ledger.duplicates} duplicates are writes`} MinIO completed as it went`,
              'down whose answer never arrived: a failure for the consumer, which wrote it again.',
            ]
          : []),
      ],
      durationSeconds: secondsSince(started),
    });
  }, 8 * 60_000);
};
