import { createHash } from 'node:crypto';
import { TRUNCATION_HEADERS } from '../../src/adapters/kafka/dead-letter-fit';
import { DLQ_HEADERS } from '../../src/adapters/kafka/kafka-dead-letter-sink';
import { Headers } from '../../src/application/ports/message-bus.port';
import { CommitSample, TopicRecord } from './fault-kafka';
import { CASE_HEADER, FaultCase } from './fault-payloads';
import { StoredKey } from './fault-store';

/**
 * What a scenario did to the orders, counted from the object store and the topics themselves,
 * never from the service's own counters.
 */
export interface Ledger {
  /** Valid orders published (each publish acknowledged by the broker). */
  readonly sent: number;
  /** Messages published that can never be processed. */
  readonly poisonSent: number;
  /** Valid orders whose key is in the store. */
  readonly archived: number;
  /** Poison messages found on the dead-letter topic with the expected reason. */
  readonly deadLettered: number;
  /** Valid orders not in the store, plus poison messages not on the dead-letter topic. */
  readonly lost: number;
  /** Rewrites in the store: versions beyond the first, summed over the keys. */
  readonly duplicates: number;
  /** Dead-letter records beyond the first for the same source message. */
  readonly deadLetterDuplicates: number;
  /** Everything that contradicts the promise, each in words: must be empty. */
  readonly problems: readonly string[];
}

export interface LedgerInput {
  readonly cases: readonly FaultCase[];
  /** Every key under the lane's prefix: one that no sent order maps to is a problem. */
  readonly store: ReadonlyMap<string, StoredKey>;
  readonly prefix: string;
  readonly ordersTopic: readonly TopicRecord[];
  readonly deadLetters: readonly TopicRecord[];
  /** The group's committed positions over time: each is checked against when the store got the orders below it. */
  readonly commits: readonly CommitSample[];
  /**
   * While the store was down, nothing could be written: a commit observed then may only cover
   * orders stored before `from`. A commit that moved past one stored later moved past a failure.
   */
  readonly storeDown?: { readonly from: number; readonly to: number };
}

export const account = ({ cases, store, prefix, ordersTopic, deadLetters, commits, storeDown }: LedgerInput): Ledger => {
  const problems: string[] = [];
  const byId = new Map(cases.map((c) => [c.id, c]));

  const orders = cases.filter((c) => c.expect.kind === 'archive');
  const expectedKeys = new Set(orders.map((c) => (c.expect.kind === 'archive' ? c.expect.key : '')));
  const archived = orders.filter((c) => c.expect.kind === 'archive' && store.has(c.expect.key)).length;
  const duplicates = [...store.values()].reduce((sum, key) => sum + key.versions - 1, 0);
  for (const key of store.keys()) if (!expectedKeys.has(key)) problems.push(`unexpected object ${JSON.stringify(key)}`);

  const seen = new Map<string, number>();
  for (const record of deadLetters) {
    const id = record.headers[CASE_HEADER];
    const sent = id === undefined ? undefined : byId.get(id);
    if (sent === undefined) {
      problems.push(`dead letter of an unknown message at ${record.partition}:${record.offset}`);
      continue;
    }
    seen.set(id!, (seen.get(id!) ?? 0) + 1);
    if (sent.expect.kind === 'archive') {
      problems.push(`valid order ${id} was dead-lettered (${record.headers[DLQ_HEADERS.code]})`);
      continue;
    }
    const code = record.headers[DLQ_HEADERS.code];
    if (code === undefined || !sent.expect.codes.includes(code as never)) {
      problems.push(`${id} (${sent.expect.what}) dead-lettered as ${code}, expected ${sent.expect.codes.join(' or ')}`);
    }
    if ((record.headers[DLQ_HEADERS.exceptionMessage] ?? '').length === 0) problems.push(`${id} dead-lettered without a reason`);
    problems.push(...headerProblems(id!, sent.message.headers ?? [], record.rawHeaders));
    if (sent.expect.truncated === true) {
      problems.push(...truncationProblems(id!, record, sent.message.value));
    } else if (!record.value?.equals(sent.message.value) || !sameKey(record.key, sent.message.key)) {
      problems.push(`${id} dead-lettered with other bytes than were sent`);
    }
  }
  const poison = cases.filter((c) => c.expect.kind === 'dead-letter');
  const deadLettered = poison.filter((c) => seen.has(c.id)).length;
  const deadLetterDuplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);

  if (ordersTopic.length !== cases.length) problems.push(`the orders topic holds ${ordersTopic.length} records, ${cases.length} were sent`);
  problems.push(...commitsAfterWrites(ordersTopic, byId, store, commits, storeDown));

  return {
    sent: orders.length,
    poisonSent: poison.length,
    archived,
    deadLettered,
    lost: orders.length - archived + (poison.length - deadLettered),
    duplicates,
    deadLetterDuplicates,
    problems,
  };
};

/**
 * The at-least-once invariant, checked from outside: whenever the group's committed position
 * was observed, every order below it was already in the store. A commit that passed an order
 * the store did not have yet (or never got) is a commit ahead of its write.
 */
const commitsAfterWrites = (
  records: readonly TopicRecord[],
  byId: ReadonlyMap<string, FaultCase>,
  store: ReadonlyMap<string, StoredKey>,
  commits: readonly CommitSample[],
  storeDown: LedgerInput['storeDown'],
): string[] => {
  // Per partition and offset: when the order there was first written (poison messages: never a constraint).
  const writtenBy = new Map<number, number[]>();
  for (const record of records) {
    const sent = byId.get(record.headers[CASE_HEADER] ?? '');
    const at = sent?.expect.kind === 'archive' ? (store.get(sent.expect.key)?.firstWrittenAt ?? Number.POSITIVE_INFINITY) : Number.NEGATIVE_INFINITY;
    const times = writtenBy.get(record.partition) ?? [];
    times[record.offset] = at;
    writtenBy.set(record.partition, times);
  }
  // Running maximum: the latest first write among all offsets below each position.
  const latestBelow = new Map<number, number[]>();
  for (const [partition, times] of writtenBy) {
    const running: number[] = [Number.NEGATIVE_INFINITY];
    for (let offset = 0; offset < times.length; offset++) running.push(Math.max(running[offset]!, times[offset] ?? Number.NEGATIVE_INFINITY));
    latestBelow.set(partition, running);
  }
  const violations: string[] = [];
  for (const { at, positions } of commits) {
    const whileDown = storeDown !== undefined && at >= storeDown.from && at <= storeDown.to;
    const bound = whileDown ? storeDown.from : at;
    positions.forEach((position, partition) => {
      const latest = latestBelow.get(partition)?.[position] ?? Number.NEGATIVE_INFINITY;
      if (latest > bound) {
        violations.push(
          `commit of partition ${partition} at ${position}, seen at ${new Date(at).toISOString()}${whileDown ? ' while the store was down' : ''}, ` +
            'passed an order stored only later',
        );
      }
    });
  }
  return violations.slice(0, 20);
};

const sameKey = (received: Buffer | null, sent: string | Buffer | null): boolean =>
  sent === null ? received === null : received !== null && received.equals(Buffer.isBuffer(sent) ? sent : Buffer.from(sent));

// ---- The figures ----

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly faults: string;
  readonly ledger: Ledger;
  /** Seconds from the end of the fault until every stalled partition committed again; undefined where nothing stalled. */
  readonly recoverySeconds?: number;
  /** What the service's own duplicate counter said, where one process saw the whole run. */
  readonly serviceDuplicates?: number;
  readonly notes: readonly string[];
  readonly durationSeconds: number;
}

export const renderReliabilityDoc = (results: readonly ScenarioResult[], run: { date: Date; suiteSeconds: number; machine: string }): string => {
  // The committed offsets are polled every 250 ms: a shorter time reads as "within one poll".
  const seconds = (s: number | undefined): string => (s === undefined ? '—' : s < 0.25 ? '< 0.25 s' : `${s.toFixed(1)} s`);
  const count = (n: number): string => n.toLocaleString('en-US');
  const rows = results.map(({ id, title, faults, ledger, recoverySeconds }) => {
    const sent = ledger.poisonSent > 0 ? `${count(ledger.sent)} + ${count(ledger.poisonSent)} poison` : count(ledger.sent);
    const duplicates = ledger.deadLetterDuplicates > 0 ? `${count(ledger.duplicates)} (+${count(ledger.deadLetterDuplicates)} DLQ)` : count(ledger.duplicates);
    return `| ${id} | ${title} | ${sent} | ${faults} | **${count(ledger.lost)}** | ${duplicates} | ${count(ledger.deadLettered)} | ${seconds(recoverySeconds)} |`;
  });
  const notes = results.flatMap(({ id, notes: lines, serviceDuplicates, ledger, durationSeconds }) => [
    `- **${id}** (${durationSeconds.toFixed(0)} s): ${lines.join(' ')}${
      serviceDuplicates === undefined
        ? ''
        : ` The service's own counter, \`orderflow_orders_duplicate_total\`, reported ${count(serviceDuplicates)} of the ${count(ledger.duplicates)} rewrites the store shows.`
    }`,
  ]);
  return [
    '# Reliability figures',
    '',
    '<!-- Generated by tests/integration/faults (npx jest --selectProjects integration -- tests/integration/faults). Do not edit by hand: rerun the suite. -->',
    '',
    `Measured on ${run.date.toISOString().slice(0, 10)} by the fault suite, against a real Kafka 3.9.1 broker, a real MinIO and a real`,
    `PostgreSQL 15 started for the suite alone, on ${run.machine}. The whole suite took ${Math.round(run.suiteSeconds)} s. Every scenario`,
    'runs the real CLI as a separate process, configured only through the environment: `orderflow consume`, and for F8',
    '`orderflow run` (the whole order lifecycle).',
    '',
    '| # | scenario | orders sent | faults injected | lost | duplicates | dead-lettered | time to recover |',
    '|---|---|---:|---|---:|---:|---:|---:|',
    ...rows,
    '',
    '## How the figures are counted',
    '',
    'Nothing here comes from the service\'s own counters. Each scenario publishes orders it generated from a fixed seed (so it',
    'knows every id and the key the archive must hold for it) and then counts, once the consumer group has committed everything:',
    '',
    '- **orders sent**: valid orders published, each publish acknowledged by the broker (acks = all); "poison" are messages that',
    '  can never be processed. The orders topic is read back too: it must hold exactly what was sent (no loss, no producer duplicates).',
    '- **lost**: valid orders whose key is not in the bucket, plus poison messages that are not on the dead-letter topic. It must',
    '  be 0, and the scenario fails otherwise.',
    '- **duplicates**: rewrites of a key, counted by the object store itself. The fault bucket is versioned, so every write of a key',
    '  leaves a version: duplicates = Σ (versions − 1). A rewrite holds the same order (only `consumed_at` and `latency_ms` differ), so',
    '  a reader of the lake still sees each order once. "DLQ" counts dead letters written twice for the same source message.',
    '- **the batched sink** (`-batched` rows, `ORDERFLOW_SINK=batched`, batches of 200): every version of every NDJSON object is read',
    '  back. Each object must hold exactly its partition\'s valid orders from the start offset in its name on, in order; every',
    '  version of an object must hold the same orders; no order may be in two objects (exactly-once by name,',
    '  [ADR 11](../adr/0011-batched-exactly-once-sink.md)). The orders are then counted as above; a duplicate is an order whose',
    '  object was written again. Each batched lane ends with one far-future order per partition that closes its last batch',
    '  ([ADR 12](../adr/0012-fault-suite-and-shutdown.md)); those closers are not counted.',
    '- **dead-lettered**: poison messages found on the dead-letter topic, each with the original key and bytes, a reason in',
    '  `__connect.errors.exception.message` and the expected code in `orderflow.errors.code` ([ADR 9](../adr/0009-dead-letter-policy.md)).',
    '- **time to recover**: from the end of the fault (the kill, the broker or MinIO answering again) until the group committed',
    '  progress again on a partition the fault had stalled, from the group\'s committed offsets polled every 250 ms.',
    '- **F8, the lifecycle** (`orderflow run` with all six stages): "orders sent" are placed orders of a known mix. **lost** counts',
    '  orders short of the final state their class calls for: every event of it (docs/events.md) on its topic, and the payment, refund,',
    '  reservation and stock rows in PostgreSQL to match, read directly. **duplicates** counts events on the output topics beyond the',
    '  first with the same `event_id`, as a read_committed consumer reads them, before any deduplication. **dead-lettered** counts records',
    '  on the lifecycle\'s dead-letter topics: none is expected (no order is malformed; transient gateway failures are retried). **time to',
    '  recover** runs from a kill until the payments table grew again.',
    '',
    'Every archive scenario also checks, for every committed position it observed, that the store already held every order below it (the',
    'first version\'s timestamp is earlier than the observation): no commit ever passed an order that was not yet written.',
    '',
    '## Notes per scenario',
    '',
    ...notes,
    '',
  ].join('\n');
};

/** A dead letter cut to fit its topic: the first bytes of what was sent, with the original's size and sha256 (adr/0009). */
const truncationProblems = (id: string, record: TopicRecord, sent: Buffer): string[] => {
  const problems: string[] = [];
  const value = record.value ?? Buffer.alloc(0);
  if (record.headers[TRUNCATION_HEADERS.truncated] !== 'true') problems.push(`${id} was not marked truncated`);
  if (!value.equals(sent.subarray(0, value.length)) || value.length >= sent.length) problems.push(`${id} is not a prefix of what was sent`);
  if (record.headers[TRUNCATION_HEADERS.bytes] !== String(sent.length)) problems.push(`${id} has a wrong original size`);
  if (record.headers[TRUNCATION_HEADERS.sha256] !== createHash('sha256').update(sent).digest('hex')) problems.push(`${id} has a wrong sha256`);
  return problems;
};

/**
 * A dead letter keeps the headers it was sent with, byte for byte: for each name, the values sent
 * come first, in order (the reason headers follow). kafkajs groups a record's headers by name, so
 * the order across names is not compared.
 */
const headerProblems = (id: string, sent: Headers, received: Headers): string[] => {
  const problems: string[] = [];
  for (const name of new Set(sent.map((header) => header.key))) {
    const want = sent.filter((header) => header.key === name).map((header) => header.value);
    const got = received.filter((header) => header.key === name).map((header) => header.value);
    if (want.some((value, i) => got[i] === undefined || !value.equals(got[i]!))) {
      problems.push(`${id}: header ${name} came back as [${got.map((v) => v.toString('hex')).join(', ')}], sent [${want.map((v) => v.toString('hex')).join(', ')}]`);
    }
  }
  return problems;
};
