import { rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as path from 'node:path';
import { CommitSample, CommitWatcher, KafkaProbe } from '../../support/fault-kafka';
import { FaultCase } from '../../support/fault-payloads';
import { account, Ledger, renderReliabilityDoc, ScenarioResult } from '../../support/fault-report';
import { aLane, buildService, CliProcess, Lane, LOG_DIR, serviceEnv } from '../../support/fault-service';
import { FaultStack, FaultStackEnv } from '../../support/fault-stack';
import { StoreProbe } from '../../support/fault-store';
import { REPO_ROOT } from '../../support/stack-env';

/** The scenarios of docs/reliability.md, in its order. The doc is written only when all of them passed. */
export const SCENARIOS = ['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'S1', 'S2'] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

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

  /** A fresh lane with its topics created: 6 partitions for the orders, as `consume` would create them. */
  async lane(scenario: string): Promise<Lane> {
    const lane = aLane(scenario);
    await this.kafka.createTopics([lane.ordersTopic, lane.dlqTopic]);
    return lane;
  }

  /** Starts `orderflow consume` on the lane; whatever is still running at the end is killed. */
  consumer(name: string, lane: Lane, overrides: Record<string, string> = {}): CliProcess {
    return this.cli(name, lane, ['consume'], overrides);
  }

  /** Runs another `orderflow` command with the lane's configuration. */
  cli(name: string, lane: Lane, command: readonly string[], overrides: Record<string, string> = {}): CliProcess {
    const process = new CliProcess(name, serviceEnv(this.env, lane, overrides), command);
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
    const [ordersTopic, deadLetters, store] = await Promise.all([
      this.kafka.readAll(lane.ordersTopic),
      this.kafka.readAll(lane.dlqTopic),
      this.store.keys(`${lane.prefix}/`),
    ]);
    return account({ cases, store, prefix: lane.prefix, ordersTopic, deadLetters, commits, ...(storeDown === undefined ? {} : { storeDown }) });
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

export const secondsSince = (start: number): number => (Date.now() - start) / 1000;
