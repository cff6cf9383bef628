import {
  AbortedTransaction,
  correctKafkajsReadCommitted,
  FetchedPartition,
  FetchedRecord,
  markAbortedRecords,
} from '../../../src/adapters/kafka/kafka-aborted-transactions';

// kafkajs's own read_committed filter, as its Batch applies it to a fetched partition.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsFilter = require('kafkajs/src/consumer/filterAbortedMessages') as (input: {
  messages: readonly FetchedRecord[];
  abortedTransactions: readonly AbortedTransaction[];
}) => FetchedRecord[];

type Kind = 'tx' | 'plain' | 'abort' | 'commit';

/** A one-record batch as kafkajs decodes it: a transactional record, a non-transactional one, or a marker. */
const aRecord = (offset: number, producerId: string, kind: Kind): FetchedRecord => ({
  offset: String(offset),
  key: kind === 'abort' ? Buffer.from([0, 0, 0, 0]) : kind === 'commit' ? Buffer.from([0, 0, 0, 1]) : Buffer.from(`k${offset}`),
  isControlRecord: kind === 'abort' || kind === 'commit',
  batchContext: { producerId, inTransaction: kind !== 'plain', firstOffset: String(offset), lastOffsetDelta: 0 },
});

const aborted = (producerId: string, firstOffset: number): AbortedTransaction => ({ producerId, firstOffset: String(firstOffset) });

/** The data records a handler would be given: what is left once control records (and what is marked as one) are out. */
const delivered = (records: readonly FetchedRecord[]): number[] => records.filter((record) => !record.isControlRecord).map((record) => Number(record.offset));

const fresh = (records: FetchedRecord[]): FetchedRecord[] => records.map((record) => ({ ...record }));

describe('markAbortedRecords: read_committed as the Java client filters', () => {
  it('drops both transactions when two producers abort in another order than they began, where kafkajs lets the first one through', () => {
    // 1001 begins at 0, 1002 at 1; 1002 aborts first, so the broker lists its transaction before 1001's.
    const records = [aRecord(0, '1001', 'tx'), aRecord(1, '1002', 'tx'), aRecord(2, '1001', 'tx'), aRecord(3, '1002', 'abort'), aRecord(4, '1001', 'abort'), aRecord(5, '1001', 'tx'), aRecord(6, '1001', 'commit')];
    const list = [aborted('1002', 1), aborted('1001', 0)];

    expect(delivered(kafkajsFilter({ messages: fresh(records), abortedTransactions: list }))).toEqual([0, 5]);

    const partition: FetchedPartition = { abortedTransactions: list, messages: fresh(records) };
    expect(markAbortedRecords(partition)).toBe(3);
    expect(delivered(partition.messages)).toEqual([5]);
    expect(partition.abortedTransactions).toEqual([]);
  });

  it('drops every transaction that began before the fetched records, not one per record as kafkajs does', () => {
    // The fetch starts at 100, inside two aborted transactions begun at 80 and 90.
    const records = [aRecord(100, '1002', 'tx'), aRecord(101, '1001', 'tx'), aRecord(102, '1001', 'abort'), aRecord(103, '1002', 'abort'), aRecord(104, '1003', 'plain')];
    const list = [aborted('1001', 80), aborted('1002', 90)];

    expect(delivered(kafkajsFilter({ messages: fresh(records), abortedTransactions: list }))).toEqual([100, 104]);

    const partition: FetchedPartition = { abortedTransactions: list, messages: fresh(records) };
    markAbortedRecords(partition);
    expect(delivered(partition.messages)).toEqual([104]);
  });

  it('keeps a producer\'s committed transaction after its aborted one, and whatever was written outside transactions', () => {
    const records = [
      aRecord(0, '1001', 'tx'),
      aRecord(1, '1009', 'plain'),
      aRecord(2, '1001', 'abort'),
      aRecord(3, '1001', 'tx'),
      aRecord(4, '1001', 'commit'),
      aRecord(5, '-1', 'plain'),
      aRecord(6, '1001', 'tx'),
      aRecord(7, '1001', 'abort'),
    ];
    const partition: FetchedPartition = { abortedTransactions: [aborted('1001', 6), aborted('1001', 0)], messages: fresh(records) };

    expect(markAbortedRecords(partition)).toBe(2);
    expect(delivered(partition.messages)).toEqual([1, 3, 5]);
    // The markers stay control records: kafkajs steps over them as before.
    expect(partition.messages.filter((record) => record.isControlRecord).map((record) => Number(record.offset))).toEqual([0, 2, 4, 6, 7]);
  });

  it('judges a record batch whole: an aborted transaction begun anywhere in it covers all its records', () => {
    const batchContext = { producerId: '1001', inTransaction: true, firstOffset: '10', lastOffsetDelta: 2 };
    const batch = [10, 11, 12].map((offset): FetchedRecord => ({ offset: String(offset), key: null, isControlRecord: false, batchContext }));
    const partition: FetchedPartition = { abortedTransactions: [aborted('1001', 10)], messages: [...batch, aRecord(13, '1001', 'abort'), aRecord(14, '1002', 'tx')] };

    markAbortedRecords(partition);
    expect(delivered(partition.messages)).toEqual([14]);
  });

  it('leaves a partition with no aborted transactions, and the legacy formats without batch headers, as they are', () => {
    const records = [aRecord(0, '1001', 'tx'), aRecord(1, '1001', 'commit')];
    expect(markAbortedRecords({ messages: records })).toBe(0);
    expect(markAbortedRecords({ abortedTransactions: [], messages: records })).toBe(0);
    const legacy: FetchedRecord = { offset: '2', key: null, isControlRecord: false };
    expect(markAbortedRecords({ abortedTransactions: [aborted('1001', 0)], messages: [legacy] })).toBe(0);
    expect(delivered([...records, legacy])).toEqual([0, 2]);
  });
});

describe('correctKafkajsReadCommitted', () => {
  const moduleWith = (partition: FetchedPartition) => ({ decode: async (_raw: Buffer) => ({ responses: [{ partitions: [partition] }] }) });

  it('corrects what every Fetch response decoder from v4 on returns, once however often it is installed', async () => {
    const modules = new Map<number, { decode: (raw: Buffer) => Promise<{ responses: Array<{ partitions: FetchedPartition[] }> }> }>();
    const load = (version: number) => {
      if (!modules.has(version)) {
        modules.set(version, moduleWith({ abortedTransactions: [aborted('1002', 1), aborted('1001', 0)], messages: [aRecord(0, '1001', 'tx'), aRecord(1, '1002', 'tx'), aRecord(2, '1002', 'abort'), aRecord(3, '1001', 'abort')] }));
      }
      return modules.get(version);
    };
    correctKafkajsReadCommitted(load);
    const installed = modules.get(11)!.decode;
    correctKafkajsReadCommitted(load);

    expect([...modules.keys()]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(modules.get(11)!.decode).toBe(installed);
    const response = await modules.get(11)!.decode(Buffer.alloc(0));
    expect(delivered(response.responses[0]!.partitions[0]!.messages)).toEqual([]);
    expect(response.responses[0]!.partitions[0]!.abortedTransactions).toEqual([]);
  });

  it('refuses a kafkajs whose decoders are not where 2.2.4 has them, naming the version', () => {
    expect(() => correctKafkajsReadCommitted((version) => (version === 7 ? {} : moduleWith({ messages: [] })))).toThrow(
      "kafkajs's Fetch v7 response has no decode function: the read_committed correction (kafka-aborted-transactions.ts) does not fit this kafkajs",
    );
  });

  it('fits the kafkajs this project runs on', () => {
    expect(() => correctKafkajsReadCommitted()).not.toThrow();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const v11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as Record<symbol, unknown>;
    expect(v11[Symbol.for('orderflow.kafkajs.readCommitted')]).toBe(true);
  });
});
