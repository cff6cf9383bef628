import { TopicRecord } from './fault-kafka';
import { CASE_HEADER, FaultCase } from './fault-payloads';
import { ObjectVersion, StoredKey } from './fault-store';

/** One version of one batch object, with the order records its NDJSON lines hold. */
export interface BatchVersion {
  readonly version: ObjectVersion;
  readonly records: ReadonlyArray<Record<string, unknown>>;
}

export interface BatchedStore {
  /**
   * The store as one object per order, for the ledger: each archived order's per-order key, with
   * the versions of the batch object that holds it and when that object was first written.
   */
  readonly perOrder: ReadonlyMap<string, StoredKey>;
  /** The latest stored record of each order id. */
  readonly records: ReadonlyMap<string, Record<string, unknown>>;
  /** Everything that contradicts exactly-once by name, each in words: must be empty. */
  readonly problems: readonly string[];
}

const NAME = /^(?<prefix>.+)\/dt=(?<dt>\d{4}-\d{2}-\d{2})\/(?<topic>.+)\+(?<partition>\d+)\+(?<start>\d{10})\.ndjson$/;

/**
 * Checks the batched sink's objects against what was published, independently of its code, and
 * turns them into the per-order view the ledger counts. Exactly-once by name means:
 * - every object's name says where its records come from: they are its partition's valid orders
 *   from its start offset on, consecutive and in offset order (dead letters in between skipped),
 *   and all of them of the name's `dt`;
 * - every version of an object holds the same orders: a rewrite after a crash is the same batch;
 * - no order is in two objects: a replay never cut a batch anywhere else.
 */
export const checkBatches = (input: {
  readonly prefix: string;
  readonly topic: string;
  readonly versions: readonly BatchVersion[];
  readonly ordersTopic: readonly TopicRecord[];
  readonly cases: readonly FaultCase[];
}): BatchedStore => {
  const problems: string[] = [];
  const byId = new Map(input.cases.map((c) => [c.id, c]));
  // Per partition, the valid orders' ids in offset order, with their offsets.
  const stream = new Map<number, Array<{ offset: number; id: string }>>();
  for (const record of [...input.ordersTopic].sort((a, b) => a.offset - b.offset)) {
    const sent = byId.get(record.headers[CASE_HEADER] ?? '');
    if (sent?.expect.kind !== 'archive') continue;
    const orders = stream.get(record.partition) ?? [];
    orders.push({ offset: record.offset, id: sent.id });
    stream.set(record.partition, orders);
  }

  const byKey = new Map<string, BatchVersion[]>();
  for (const version of input.versions) byKey.set(version.version.key, [...(byKey.get(version.version.key) ?? []), version]);

  const objectOf = new Map<string, string>();
  const perOrder = new Map<string, StoredKey>();
  const records = new Map<string, Record<string, unknown>>();
  for (const [key, versions] of byKey) {
    const name = NAME.exec(key)?.groups;
    if (name === undefined || name.prefix !== input.prefix || name.topic !== input.topic) {
      problems.push(`object ${JSON.stringify(key)} is not named <prefix>/dt=<date>/<topic>+<partition>+<start offset>.ndjson`);
      continue;
    }
    const partition = Number(name.partition);
    const start = Number(name.start);
    const ordered = [...versions].sort((a, b) => a.version.writtenAt - b.version.writtenAt);
    const ids = ordered[0]!.records.map((record) => String(record.id));
    for (const later of ordered.slice(1)) {
      const laterIds = later.records.map((record) => String(record.id));
      if (laterIds.join() !== ids.join()) problems.push(`${key} was rewritten with other orders (${laterIds.length} against ${ids.length} at first)`);
    }
    const from = (stream.get(partition) ?? []).filter((order) => order.offset >= start);
    const expected = from.slice(0, ids.length).map((order) => order.id);
    if (from[0]?.offset !== start) problems.push(`${key} starts at offset ${start}, where partition ${partition} has no valid order`);
    if (ids.length === 0 || expected.join() !== ids.join()) {
      problems.push(`${key} does not hold partition ${partition}'s ${ids.length} valid orders from offset ${start} on, in order`);
    }
    for (const record of ordered[ordered.length - 1]!.records) {
      const id = String(record.id);
      if (String(record.produced_at).slice(0, 10) !== name.dt) problems.push(`${key} holds order ${id} of another date (${String(record.produced_at)})`);
      const first = objectOf.get(id);
      if (first !== undefined && first !== key) problems.push(`order ${id} is in two objects: ${first} and ${key}`);
      objectOf.set(id, key);
      records.set(id, record);
      const sent = byId.get(id);
      if (sent?.expect.kind !== 'archive') {
        problems.push(`${key} holds ${id}, which is not a valid order that was sent`);
        continue;
      }
      perOrder.set(sent.expect.key, { versions: versions.length, firstWrittenAt: ordered[0]!.version.writtenAt });
    }
  }
  return { perOrder, records, problems: problems.slice(0, 20) };
};

/** The records of an NDJSON body: one JSON object per line, each line ended by a newline. */
export const ndjsonRecords = (body: Buffer): Array<Record<string, unknown>> => {
  const text = body.toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('an NDJSON object must end with a newline');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};
