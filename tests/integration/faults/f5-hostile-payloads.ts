import { edgeIdOrders, FaultCase, nearLimitOrders, overDeadLetterLimit, poisonMessages, shuffled, validOrders } from '../../support/fault-payloads';
import { SinkKind } from '../../support/fault-service';
import { FaultSuite, scenarioId, secondsSince } from './fault-suite';

const VALID = 10_000;
const POISON = 10_000;
/** Every 25th valid order carries hostile extras (prototype keys, deep nesting, hostile Kafka key and headers). */
const HOSTILE_EVERY = 25;
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Valid orders just under MAX_MESSAGE_BYTES: 13 MB of them, which the batched sink cuts by bytes. */
const NEAR_LIMIT = 200;
/**
 * Random messages larger than the dead-letter topic takes (Kafka's default, 1 MiB + 12), on an
 * orders topic allowed HUGE_TOPIC_BYTES: each must arrive cut, with its size and sha256.
 */
const HUGE = 3;
const HUGE_BYTES = 1_500_000;
const HUGE_TOPIC_BYTES = 4 * 1024 * 1024;

/** Exactly the archived record's fields: nothing a hostile payload added may show up. */
const RECORD_FIELDS = ['channel', 'consumed_at', 'customer', 'high_risk', 'id', 'latency_ms', 'produced_at', 'risk_score', 'total'];

/**
 * Any well-formed key of any scenario's lane: `<lane>/orders/dt=YYYY-MM-DD/orderId=<safe id>.json`,
 * or `<lane>/orders-batched/dt=YYYY-MM-DD/<lane>.orders+<partition>+<start offset>.ndjson`.
 */
const LANE_KEY =
  /^(?<lane>[a-z0-9-]+)\/orders(?:\/dt=\d{4}-\d{2}-\d{2}\/orderId=[A-Za-z0-9._:-]{1,128}\.json|-batched\/dt=\d{4}-\d{2}-\d{2}\/\k<lane>\.orders\+\d+\+\d{10}\.ndjson)$/;

/**
 * F5: 10,000 messages that can never be processed — every kind the dead-letter policy names, with
 * random parameters and hostile keys, header names and JSON members — shuffled among 10,000 valid
 * orders, from fixed seeds. The process never crashes, every valid order is archived as it was
 * sent, every poison message is on the dead-letter topic with its reason, and no object lands
 * outside the prefix.
 */
export const hostilePayloads = (suite: FaultSuite, sink: SinkKind): void => {
  const id = scenarioId('F5', sink);
  it(`${id}: 10,000 hostile payloads among 10,000 valid orders (${sink} sink): never crashes, every valid order archived, every poison dead-lettered with its reason`, async () => {
    const started = Date.now();
    const lane = await suite.lane(id, sink);
    const orders = validOrders(VALID, { seed: 505, runId: lane.group, prefix: lane.prefix, hostileEvery: HOSTILE_EVERY });
    const large = nearLimitOrders(NEAR_LIMIT, MAX_MESSAGE_BYTES, { seed: 506, runId: lane.group, prefix: lane.prefix });
    const edgeIds = edgeIdOrders({ runId: lane.group, prefix: lane.prefix });
    const cases: FaultCase[] = shuffled(
      [...orders, ...large, ...edgeIds, ...poisonMessages(POISON, 5_005), ...overDeadLetterLimit(HUGE, HUGE_BYTES, 5_050)],
      55,
    );
    await suite.kafka.allowMessageBytes(lane.ordersTopic, HUGE_TOPIC_BYTES);
    const consumer = suite.consumer(`${id}-consumer`, lane, { ORDERFLOW_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) });
    const commits = suite.watchCommits(lane);
    await suite.kafka.publish(lane.ordersTopic, cases.map((c) => c.message), 200);
    const ends = await suite.positionsWhenDone(lane);
    await commits.untilCaughtUp(ends, 300_000);

    expect(consumer.running).toBe(true);
    // Not one error, not one crash of the consumer inside the process either.
    expect(consumer.records().filter((r) => Number(r.level) >= 50)).toEqual([]);
    expect(consumer.hasLogged(/crashed/)).toBe(false);
    expect(await consumer.stop()).toEqual({ code: 0, signal: null });
    await commits.stop();

    const ledger = await suite.account(lane, cases, commits.samples);
    expect(ledger.problems).toEqual([]);
    const valid = VALID + NEAR_LIMIT + edgeIds.length;
    expect(ledger).toMatchObject({ sent: valid, archived: valid, poisonSent: POISON + HUGE, deadLettered: POISON + HUGE, lost: 0 });

    const everyKey = [...(await suite.store.keys('')).keys()];
    expect(everyKey.filter((key) => !LANE_KEY.test(key))).toEqual([]);

    // What was archived is the order as sent, whatever hostile members came with it.
    const sample = [...orders.filter((_, i) => i % HOSTILE_EVERY === 0 || i % 101 === 0), ...large.filter((_, i) => i % 20 === 0), ...edgeIds];
    for (const order of sample) {
      const expected = order.expect;
      const stored = await suite.storedRecord(lane, order);
      expect(Object.keys(stored).sort()).toEqual(RECORD_FIELDS);
      expect(stored).toMatchObject({ ...expected.wire, high_risk: expected.wire.total >= 500 });
    }

    // Ids differing only in case are different orders, each archived as itself.
    const caseIds = edgeIds.slice(2);
    const caseRecords = await Promise.all(caseIds.map((order) => suite.storedRecord(lane, order)));
    expect(caseRecords.map((record) => record.id)).toEqual(caseIds.map((order) => order.id));

    const kinds = new Set(cases.flatMap((c) => (c.expect.kind === 'dead-letter' ? [c.expect.what] : [])));
    suite.record({
      id,
      title: `hostile and malformed payloads, ${sink} sink`,
      faults: `${POISON.toLocaleString('en-US')} fuzzed and hostile messages shuffled among the valid orders`,
      ledger,
      notes: [
        `The poison messages cover ${kinds.size} kinds (${[...kinds].sort().join('; ')}); one in seven also has hostile header names`,
        '(`__proto__`, `constructor`, `toString`…) and many have hostile or binary Kafka keys. One valid order in',
        `${HOSTILE_EVERY} carries \`__proto__\`/\`constructor\` members, a field nested 5,000 deep and hostile keys: all were archived`,
        `with exactly the record's fields (checked on ${sample.length} objects). Each dead letter has the original key and bytes and`,
        `the expected \`orderflow.errors.code\`. No object exists outside a lane's \`dt=\` partitions (${everyKey.length.toLocaleString('en-US')} keys`,
        'in the bucket checked). The consumer logged no error and never restarted.',
        `Also: ${NEAR_LIMIT} valid orders just under the ${MAX_MESSAGE_BYTES / 1024} KiB limit; ids \`.\`, \`-\` and three differing only in case,`,
        `each archived as itself; ${HUGE} random messages of ${(HUGE_BYTES / 1e6).toFixed(1)} MB on an orders topic allowing`,
        `${HUGE_TOPIC_BYTES / 1024 / 1024} MiB, dead-lettered cut to fit the dead-letter topic with their size and sha256;`,
        'record timestamps in ns, -1 and past 8.64e15 without produced_at, and impossible or out-of-range dates, each with its code.',
      ],
      durationSeconds: secondsSince(started),
    });
  }, 10 * 60_000);
};
