/**
 * read_committed as Kafka specifies it, for kafkajs 2.2.4's consumer (adr/0017).
 *
 * A fetch answers a read_committed consumer with the records up to the last stable offset, the
 * records of aborted transactions included, and with the aborted transactions those records may
 * belong to (producer id, first offset). The client drops them: from an aborted transaction's
 * first offset on, the producer's transactional records are dropped until its abort marker.
 * kafkajs (src/consumer/filterAbortedMessages.js) walks that list as if it were sorted by first
 * offset, and takes at most one entry per record. The broker lists aborted transactions in the
 * order they were aborted (its transaction index), not by first offset, and several may begin at
 * or before one record. So when two producers' transactions on a partition abort in another order
 * than they began — what a killed process leaves, one open transaction per input partition it
 * handed off, aborted one by one as its successor's producers start — the records of one of them
 * reach the handler: a read_committed stage then processes an event that never happened, and its
 * redone original too (a duplicate downstream; F8 of the fault suite found it). The Java client
 * sorts the list by first offset and takes every entry up to each batch's last offset (Fetcher,
 * CompletedFetch); so does this.
 *
 * The correction runs on the decoded fetch response, before kafkajs builds its batches: the
 * records of aborted transactions are marked as control records, which kafkajs keeps out of
 * `eachBatch` while still stepping its fetch position over them (as over transaction markers),
 * and the list is emptied, so that kafkajs's own filter has nothing left to get wrong.
 */

/** An aborted transaction as the fetch response lists it. */
export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

/** What kafkajs's decoder makes of a record of a record batch (magic 2): only what the correction reads, and the flag it sets. */
export interface FetchedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  isControlRecord: boolean;
  /** The record batch's header, shared by its records; absent for the legacy message formats, which know no transactions. */
  readonly batchContext?: {
    readonly producerId: string;
    readonly inTransaction: boolean;
    readonly firstOffset: string;
    readonly lastOffsetDelta: number;
  };
}

export interface FetchedPartition {
  abortedTransactions?: AbortedTransaction[];
  readonly messages: readonly FetchedRecord[];
}

/** A control record's key: version (int16), then type (int16): 0 aborts, 1 commits. */
const isAbortMarker = (record: FetchedRecord): boolean => record.key !== null && record.key.length >= 4 && record.key.readInt16BE(2) === 0;

/**
 * Marks the records of the partition's aborted transactions as control records, so that kafkajs
 * never hands them over, and empties the list; returns how many records it marked. The
 * records must be in offset order, as the fetch returns them.
 */
export const markAbortedRecords = (partition: FetchedPartition): number => {
  const listed = partition.abortedTransactions ?? [];
  if (listed.length === 0) return 0;
  const pending = [...listed].sort((a, b) => {
    const diff = BigInt(a.firstOffset) - BigInt(b.firstOffset);
    return diff < 0n ? -1 : diff > 0n ? 1 : 0;
  });
  const aborting = new Set<string>();
  let marked = 0;
  for (const record of partition.messages) {
    const batch = record.batchContext;
    if (batch === undefined || BigInt(batch.producerId) < 0n) continue;
    // Every transaction that began by the end of this record's batch: batches do not overlap,
    // so one that began there is this batch's producer's or one already passed.
    const batchLastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta);
    while (pending.length > 0 && BigInt(pending[0]!.firstOffset) <= batchLastOffset) aborting.add(pending.shift()!.producerId);
    if (record.isControlRecord) {
      if (isAbortMarker(record)) aborting.delete(batch.producerId);
    } else if (batch.inTransaction && aborting.has(batch.producerId)) {
      record.isControlRecord = true;
      marked++;
    }
  }
  partition.abortedTransactions = [];
  return marked;
};

interface FetchResponse {
  readonly responses?: ReadonlyArray<{ readonly partitions?: readonly FetchedPartition[] }>;
}

interface FetchResponseModule {
  decode: (rawData: Buffer) => Promise<FetchResponse>;
  [CORRECTED]?: true;
}

/** kafkajs's own module, by path: the decoders have no public way in. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsFetchResponse = (version: number): unknown => require(`kafkajs/src/protocol/requests/fetch/v${version}/response`);

/** The Fetch versions whose responses list aborted transactions (v4 on); kafkajs 2.2.4 speaks up to v11. */
const FETCH_VERSIONS = [4, 5, 6, 7, 8, 9, 10, 11] as const;
const CORRECTED = Symbol.for('orderflow.kafkajs.readCommitted');

/**
 * Installs the correction into kafkajs's Fetch response decoders, once per process (idempotent).
 * kafkajs looks each decoder up on its module when a response arrives, so it applies to clients
 * created before and after. Throws when kafkajs's modules are not shaped as in 2.2.4: a consumer
 * that might deliver aborted records must not start unnoticed.
 */
export const correctKafkajsReadCommitted = (load: (version: number) => unknown = kafkajsFetchResponse): void => {
  for (const version of FETCH_VERSIONS) {
    const module = load(version) as Partial<FetchResponseModule> | undefined;
    if (module?.[CORRECTED] === true) continue;
    const decode = module?.decode;
    if (typeof decode !== 'function') {
      throw new Error(`kafkajs's Fetch v${version} response has no decode function: the read_committed correction (kafka-aborted-transactions.ts) does not fit this kafkajs`);
    }
    module!.decode = async (rawData: Buffer): Promise<FetchResponse> => {
      const response = await decode(rawData);
      for (const topic of response.responses ?? []) for (const partition of topic.partitions ?? []) markAbortedRecords(partition);
      return response;
    };
    module![CORRECTED] = true;
  }
};
