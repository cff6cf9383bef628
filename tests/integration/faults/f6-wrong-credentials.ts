import { randomUUID } from 'node:crypto';
import { waitFor } from '../../support/fault-kafka';
import { validOrders } from '../../support/fault-payloads';
import { CliProcess } from '../../support/fault-service';
import { FaultSuite, secondsSince } from './fault-suite';

const ORDERS = 500;

const errorsOf = (consumer: CliProcess): string[] => consumer.records().flatMap((r) => (typeof r.err === 'string' ? [r.err] : []));

/**
 * F6: the two credentials an operator can get wrong. A wrong SASL password (over SASL_SSL, as on
 * Event Streams) stops `consume` at once with an error naming the cause. A wrong storage secret
 * keeps it running but not ready, naming the cause, holding every order uncommitted until the
 * keys are fixed. No secret, right or wrong, appears in any line either process writes, nor on /readyz.
 */
export const wrongCredentials = (suite: FaultSuite): void => {
  it('F6: wrong SASL password and wrong storage keys: a clear error naming the cause, no secret in any log line, 0 lost', async () => {
    const started = Date.now();
    const { env } = suite;
    const lane = await suite.lane('F6');
    const cases = validOrders(ORDERS, { seed: 606, runId: lane.group, prefix: lane.prefix });
    await suite.kafka.publish(lane.ordersTopic, cases.map((c) => c.message));
    const ends = await suite.kafka.ends(lane.ordersTopic);
    const sasl = { KAFKA_BROKERS: env.saslBrokers, KAFKA_SASL_USERNAME: 'token', KAFKA_SSL_CA_FILE: env.caFile };
    const wrongApiKey = `wrong-api-key-${randomUUID()}`;
    const wrongSecret = `wrong-secret-${randomUUID()}`;

    const badKafka = suite.consumer('f6-wrong-sasl-password', lane, { ...sasl, KAFKA_SASL_PASSWORD: wrongApiKey });
    expect(await badKafka.waitForExit(120_000)).toEqual({ code: 1, signal: null });
    const kafkaFailedAfter = secondsSince(started);
    expect(errorsOf(badKafka)).toContainEqual(expect.stringMatching(/the broker at localhost:\d+ rejected the credentials \(SASL PLAIN, user "token"\)/));

    const storageStarted = Date.now();
    const badStorage = suite.consumer('f6-wrong-storage-secret', lane, { ...sasl, KAFKA_SASL_PASSWORD: env.saslPassword, COS_SECRET_ACCESS_KEY: wrongSecret });
    await waitFor(
      () => errorsOf(badStorage).some((err) => /COS rejected the credentials \(SignatureDoesNotMatch\) for bucket "faults"/.test(err)),
      120_000,
      () => `an archive error naming the credentials (errors so far: ${errorsOf(badStorage).slice(0, 3).join(' | ')})`,
    );
    const storageFailedAfter = secondsSince(storageStarted);
    let readiness: { status: number; body: string } | undefined;
    await waitFor(async () => (readiness = await badStorage.readiness())?.status === 503, 30_000, () => `/readyz 503, got ${readiness?.status}`);
    expect(readiness!.body).toMatch(/archive writes are failing/);
    // Not one order skipped: with the store refusing every write, nothing may be committed.
    expect(await suite.kafka.committed(lane.group, lane.ordersTopic)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(badStorage.running).toBe(true);
    expect(await badStorage.stop()).toEqual({ code: 0, signal: null });

    // The keys fixed, the same group archives every order the broken run held back.
    const commits = suite.watchCommits(lane);
    const fixed = suite.consumer('f6-keys-fixed', lane, { ...sasl, KAFKA_SASL_PASSWORD: env.saslPassword });
    await commits.untilCaughtUp(ends, 120_000);
    expect(await fixed.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const secrets = [wrongApiKey, wrongSecret, env.saslPassword, env.secretAccessKey];
    const everything = [...badKafka.lines, ...badStorage.lines, ...fixed.lines, readiness!.body];
    expect(everything.filter((line) => secrets.some((secret) => line.includes(secret)))).toEqual([]);

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    expect(ledger).toMatchObject({ sent: ORDERS, archived: ORDERS, lost: 0, deadLettered: 0 });

    suite.record({
      id: 'F6',
      title: 'wrong credentials',
      faults: 'wrong SASL password (SASL_SSL); then a wrong storage secret',
      ledger,
      notes: [
        `With the wrong API key \`consume\` exited with code 1 after ${kafkaFailedAfter.toFixed(1)} s, logging "the broker at`,
        'localhost:… rejected the credentials (SASL PLAIN, user "token")". With the wrong storage secret it logged "COS rejected the',
        `credentials (SignatureDoesNotMatch) for bucket …" after ${storageFailedAfter.toFixed(1)} s, answered 503 on /readyz, committed`,
        'nothing and kept running; restarted with the right keys, it archived every order. None of the four secrets involved (both',
        `wrong ones and both right ones) appears in any of the ${everything.length.toLocaleString('en-US')} lines the three processes`,
        'wrote, nor on /readyz.',
      ],
      durationSeconds: secondsSince(started),
    });
  }, 8 * 60_000);
};
