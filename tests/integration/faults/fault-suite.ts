import { rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as path from 'node:path';
import { BatchedStore, checkBatches, ndjsonRecords } from '../../support/fault-batches';
import { CommitSample, CommitWatcher, KafkaProbe, SteadyProducer, TopicRecord, waitFor } from '../../support/fault-kafka';
import { ArchiveExpectation, batchClosers, CASE_HEADER, CLOSER_PREFIX, FaultCase } from '../../support/fault-payloads';
import { account, Ledger, renderReliabilityDoc, ScenarioResult } from '../../support/fault-report';
import { aLane, buildService, CliProcess, Lane, LOG_DIR, objectPrefix, serviceEnv, SinkKind } from '../../support/fault-service';
import { FaultStack, FaultStackEnv } from '../../support/fault-stack';
import { StoreProbe } from '../../support/fault-store';
import { REPO_ROOT } from '../../support/stack-env';

/**
 * The scenarios of docs/reliability.md, in its order. The doc is written only when all of them
 * passed. F1–F5, F7 and S1 run with both sinks; F6 (the credentials fail before any sink works) and
 * S2 (the deadline and the second signal belong to the process, not the sink) run once.
 */
export const SCENARIOS = [
  'F1', 'F1-batched', 'F2', 'F2-batched', 'F3', 'F3-batched', 'F4', 'F4-batched', 'F5', 'F5-batched', 'F6', 'F7', 'F7-batched',
  'S1', 'S1-batched', 'S2',
] as const;
export type ScenarioId = (typeof SCENARIOS)[number];
export const SINKS: readonly SinkKind[] = ['per-order', 'batched'];

/** The id of a scenario run with a sink: `F1` for the default per-order sink, `F1-batched` for the other. */
export const scenarioId = <B extends string>(base: B, sink: SinkKind): B | `${B}-batched` => (sink === 'batched' ? `${base}-batched` : base);

const RELIABILITY_DOC = path.join(REPO_ROOT, 'docs', 'reliability.md');

/**
 * What the scenarios share: the fault stack (started once, purged at the end), the build of the
 * service, the test's own probes of Kafka and the store, and the results for the figures.
 */
export class FaultSuite {
  readonly stack = new FaultStack();
  private probes: { kafka: KafkaProbe; store: StoreProbe } | undefined;
  private readonly consumers: CliProcess[] = [];
  private readonly watchers: CommitWatcher[] = [];
  private readonly results = new Map<ScenarioId, ScenarioResult>();
  private readonly batchViews = new Map<string, BatchedStore>();
  private readonly startedAt = Date.now();

  async start(): Promise<void> {
    rmSync(LOG_DIR, { recursive: true, force: true });
    const [env] = await Promise.all([this.stack.up(), buildService()]);
    this.probes = { kafka: new KafkaProbe(env.brokers), store: new StoreProbe(env) };
    await this.probes.store.enableVersioning();
  }

  get env(): FaultStackEnv {
    return this.stack.env;
  }

  get kafka(): KafkaProbe {
    return this.ready().kafka;
  }

  get store(): StoreProbe {
    return this.ready().store;
  }

  /** A fresh lane for the sink with its topics created: 6 partitions for the orders, as `consume` would create them. */
  async lane(scenario: string, sink: SinkKind = 'per-order'): Promise<Lane> {
    const lane = aLane(scenario, sink);
    await this.kafka.createTopics([lane.ordersTopic, lane.dlqTopic]);
    return lane;
  }

  /** Publishes the cases at a steady pace in the background (see SteadyProducer). */
  feed(lane: Lane, cases: readonly FaultCase[], pace: { chunk?: number; intervalMs?: number } = {}): SteadyProducer {
    return new SteadyProducer(this.kafka, lane.ordersTopic, cases.map((c) => c.message), pace);
  }

  /**
   * Once the producer (if any) has published everything: the committed positions at which the lane
   * is done. That is the end of each partition for the per-order sink. A batched lane's last
   * batches are closed by one closer per partition, published here after the last order (see
   * batchClosers); its group is done when it has committed up to the closers.
   */
  async positionsWhenDone(lane: Lane, producer?: SteadyProducer): Promise<number[]> {
    await producer?.done;
    if (lane.sink === 'per-order') return this.kafka.ends(lane.ordersTopic);
    await this.kafka.publish(lane.ordersTopic, batchClosers(lane.group, 6));
    return (await this.kafka.ends(lane.ordersTopic)).map((end) => end - 1);
  }

  /** Starts `orderflow consume` on the lane; whatever is still running at the end is killed. */
  consumer(name: string, lane: Lane, overrides: Record<string, string> = {}): CliProcess {
    return this.cli(name, lane, ['consume'], overrides);
  }

  /**
   * Two consumers of the lane's group, once they share its 6 partitions three and three (F4, F7):
   * a fault then hits one member while the other keeps its own partitions moving.
   */
  async twoMembers(id: string, lane: Lane): Promise<readonly [CliProcess, CliProcess]> {
    const a = this.consumer(`${id}-consumer-a`, lane);
    const b = this.consumer(`${id}-consumer-b`, lane);
    await waitFor(
      () => lastAssignment(a)?.length === 3 && lastAssignment(b)?.length === 3,
      120_000,
      () => `the two consumers to share the 6 partitions (a: ${lastAssignment(a)}, b: ${lastAssignment(b)})`,
    );
    return [a, b];
  }

  /** Runs another `orderflow` command with the lane's configuration. */
  cli(name: string, lane: Lane, command: readonly string[], overrides: Record<string, string> = {}): CliProcess {
    return this.spawn(name, serviceEnv(this.env, lane, overrides), command);
  }

  /** Runs an `orderflow` command with exactly this environment (`orderflow run` has no lane: F8); killed at the end if still running. */
  spawn(name: string, env: Record<string, string>, command: readonly string[]): CliProcess {
    const process = new CliProcess(name, env, command);
    this.consumers.push(process);
    return process;
  }

  /** Polls the lane's committed offsets until the scenario stops it (or the suite ends). */
  watchCommits(lane: Lane): CommitWatcher {
    const watcher = new CommitWatcher(this.kafka, lane.group, lane.ordersTopic);
    this.watchers.push(watcher);
    return watcher;
  }

  /** Counts from the topics and the store what became of every case sent on the lane. */
  async account(lane: Lane, cases: readonly FaultCase[], commits: readonly CommitSample[], storeDown?: { from: number; to: number }): Promise<Ledger> {
    const [published, deadLetters] = await Promise.all([this.kafka.readAll(lane.ordersTopic), this.kafka.readAll(lane.dlqTopic)]);
    const ordersTopic = published.filter((record) => !(record.headers[CASE_HEADER] ?? '').startsWith(CLOSER_PREFIX));
    const batches = lane.sink === 'batched' ? await this.batches(lane, cases, published) : undefined;
    const store = batches?.perOrder ?? (await this.store.keys(`${lane.prefix}/`));
    const ledger = account({ cases, store, prefix: lane.prefix, ordersTopic, deadLetters, commits, ...(storeDown === undefined ? {} : { storeDown }) });
    return batches === undefined ? ledger : { ...ledger, problems: [...ledger.problems, ...batches.problems] };
  }

  /** The per-order keys of the orders the lane's store holds now, whichever sink wrote them; `ordersTopic` as read up to now. */
  async storedKeys(lane: Lane, cases: readonly FaultCase[], ordersTopic: readonly TopicRecord[]): Promise<string[]> {
    const store = lane.sink === 'batched' ? (await this.batches(lane, cases, ordersTopic)).perOrder : await this.store.keys(`${lane.prefix}/`);
    return [...store.keys()];
  }

  /** The archived record of an order, from its own object or, once the lane is accounted, from the batch object that holds it. */
  async storedRecord(lane: Lane, order: FaultCase<ArchiveExpectation>): Promise<Record<string, unknown>> {
    if (lane.sink === 'per-order') return JSON.parse((await this.store.get(order.expect.key)).toString()) as Record<string, unknown>;
    const view = this.batchViews.get(lane.group);
    if (view === undefined) throw new Error(`Lane ${lane.group} has not been accounted yet: its batch objects have not been read`);
    const record = view.records.get(order.id);
    if (record === undefined) throw new Error(`No batch object holds order ${order.id}`);
    return record;
  }

  /** Every version of the lane's batch objects, read back and checked for exactly-once by name against the topic's records. */
  private async batches(lane: Lane, cases: readonly FaultCase[], ordersTopic: readonly TopicRecord[]): Promise<BatchedStore> {
    const prefix = objectPrefix(lane);
    const versions = await this.store.versions(`${prefix}/`);
    const bodies = [];
    for (const version of versions) bodies.push({ version, records: ndjsonRecords(await this.store.get(version.key, version.versionId)) });
    const view = checkBatches({ prefix, topic: lane.ordersTopic, versions: bodies, ordersTopic, cases });
    this.batchViews.set(lane.group, view);
    return view;
  }

  record(result: ScenarioResult & { id: ScenarioId }): void {
    this.results.set(result.id, result);
  }

  /** Stops what is left, purges the fault stack, and writes the figures if every scenario passed. */
  async finish(): Promise<void> {
    for (const consumer of this.consumers) consumer.kill('SIGKILL');
    await Promise.all(this.consumers.map((consumer) => consumer.exited));
    await Promise.all(this.watchers.map((watcher) => watcher.stop()));
    await this.probes?.kafka.close();
    await this.stack.purge();
    if (SCENARIOS.every((id) => this.results.has(id))) {
      const doc = renderReliabilityDoc(
        SCENARIOS.map((id) => this.results.get(id)!),
        {
          date: new Date(),
          suiteSeconds: (Date.now() - this.startedAt) / 1000,
          machine: `${cpus().length} cores and ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
        },
      );
      writeFileSync(RELIABILITY_DOC, doc);
    }
  }

  private ready(): { kafka: KafkaProbe; store: StoreProbe } {
    if (this.probes === undefined) throw new Error('The fault suite has not started');
    return this.probes;
  }
}

/** What a duplicate is with the batched sink, for the notes of its scenarios. */
export const BATCHED_DUPLICATES =
  'With the batched sink a duplicate is an order of a batch object written again under its own name: every version of every object ' +
  'was read back and held the same orders, each object exactly its partition\'s orders from its start offset on, and no order was in two objects.';

export const secondsSince = (start: number): number => (Date.now() - start) / 1000;

/** The assignments a consumer logged, in order: its partitions and the generation they came with. */
export const assignments = (consumer: CliProcess): Array<{ partitions: number[]; generation: number }> =>
  consumer
    .records()
    .filter((r) => r.msg === 'Kafka subscription assigned partitions')
    .map((r) => ({ partitions: (r.partitions as number[]) ?? [], generation: Number(r.generation) }));

/** The partitions a consumer was last assigned, from its own log. */
export const lastAssignment = (consumer: CliProcess): number[] | undefined => assignments(consumer).at(-1)?.partitions;
