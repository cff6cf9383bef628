import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, rmSync, WriteStream } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FAULTS_DIR, FaultStackEnv, PORT_BASE } from './fault-stack';
import { REPO_ROOT } from './stack-env';
import type { SinkKind } from '../../src/main/config';

/**
 * The service under test is the real CLI in its own process, `node cli.js consume`, configured
 * only through the environment, as it runs in production. Only a process can be killed with -9
 * or sent two SIGTERMs.
 *
 * It runs from a private build: `dist/` belongs to `npm run build`, which others may be running
 * in the same checkout at the same time.
 */
const BUILD_DIR = path.join(FAULTS_DIR, 'dist');
const CLI = path.join(BUILD_DIR, 'main', 'cli.js');
/** One log file per consumer process, kept after the run for post-mortems (the next run starts it afresh). */
export const LOG_DIR = path.join(FAULTS_DIR, 'logs');

export const buildService = async (): Promise<void> => {
  await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
    cwd: REPO_ROOT,
    timeout: 5 * 60_000,
  });
  // As `npm run build`'s postbuild: the SQL migrations are no TypeScript, tsc leaves them behind,
  // and `orderflow run` reads them from beside its compiled code.
  const migrations = path.join('adapters', 'postgres', 'migrations');
  rmSync(path.join(BUILD_DIR, migrations), { recursive: true, force: true });
  cpSync(path.join(REPO_ROOT, 'src', migrations), path.join(BUILD_DIR, migrations), { recursive: true });
};

// The service's own notion of a sink, so a lane can only name one `consume` accepts.
export type { SinkKind };

/** Topics, group, key prefix and sink of one scenario: unique per run, so reruns never see each other's data. */
export interface Lane {
  readonly ordersTopic: string;
  readonly dlqTopic: string;
  readonly group: string;
  /** COS_PREFIX; the batched sink writes under `<prefix>-batched/`. */
  readonly prefix: string;
  readonly sink: SinkKind;
}

export const aLane = (scenario: string, sink: SinkKind = 'per-order'): Lane => {
  const run = `${scenario.toLowerCase()}-${Date.now().toString(36)}`;
  return { ordersTopic: `${run}.orders`, dlqTopic: `${run}.orders.dlq`, group: `${run}-group`, prefix: `${run}/orders`, sink };
};

/** Where the lane's sink writes its objects. */
export const objectPrefix = (lane: Lane): string => (lane.sink === 'batched' ? `${lane.prefix}-batched` : lane.prefix);

/**
 * Batches of 200 messages, so that a 10,000-order run makes about 50 objects and as many commit
 * boundaries. The span rule is set to a day: the orders are 13 s apart in event time, and a
 * 60 s span would cut every batch after a few orders; the UTC date still cuts them.
 */
export const BATCH_MAX_MESSAGES = 200;

/**
 * The consumers' session timeout. Every `kill -9` costs the dead member's partitions this long
 * before the group moves them; 6 s instead of the default 30 s keeps the suite within CI's budget
 * and is what an operator who wants fast fail-over would set. It is the broker's floor
 * (group.min.session.timeout.ms, default 6000, which the stack leaves as it is) and the lowest
 * KAFKA_SESSION_TIMEOUT_MS accepts; the service then heartbeats every 2 s (a third of the session,
 * container.ts), three beats per session.
 */
export const SESSION_TIMEOUT_S = 6;

/** The environment `orderflow consume` reads, pointing at the fault stack. */
export const serviceEnv = (stack: FaultStackEnv, lane: Lane, overrides: Record<string, string> = {}): Record<string, string> => ({
  KAFKA_BROKERS: stack.brokers,
  ORDERS_TOPIC: lane.ordersTopic,
  DLQ_TOPIC: lane.dlqTopic,
  CONSUMER_GROUP: lane.group,
  COS_PREFIX: lane.prefix,
  COS_ENDPOINT: stack.cosEndpoint,
  COS_BUCKET: stack.bucket,
  COS_ACCESS_KEY_ID: stack.accessKeyId,
  COS_SECRET_ACCESS_KEY: stack.secretAccessKey,
  KAFKA_TOPIC_PARTITIONS: '6',
  KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_S * 1000),
  LOG_LEVEL: 'info',
  ORDERFLOW_SINK: lane.sink,
  ...(lane.sink === 'batched' ? { ORDERFLOW_BATCH_MAX_MESSAGES: String(BATCH_MAX_MESSAGES), ORDERFLOW_BATCH_MAX_SPAN_MS: '86400000' } : {}),
  ...overrides,
});

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

// The consumers' HTTP ports move with the stack's, so that two checkouts' suites never collide.
let nextPort = PORT_BASE + 100;

/** One `orderflow` CLI process (`consume` unless told otherwise), its output kept line by line and in a log file. */
export class CliProcess {
  readonly lines: string[] = [];
  readonly port: number;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    env: Record<string, string>,
    command: readonly string[] = ['consume'],
  ) {
    this.port = nextPort++;
    mkdirSync(LOG_DIR, { recursive: true });
    this.log = createWriteStream(path.join(LOG_DIR, `${name}.log`));
    // Only what the service is given, nothing inherited: a stray KAFKA_* or COS_* of the test
    // runner's shell must not change what is tested. cwd has no .env for the same reason.
    this.child = spawn(process.execPath, [CLI, ...command], {
      cwd: FAULTS_DIR,
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(this.port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.log.write(chunk);
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        this.lines.push(...parts);
      });
      stream.on('end', () => {
        if (partial !== '') this.lines.push(partial);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.log.end();
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** The /readyz status code, or undefined while nothing answers. */
  async readiness(): Promise<{ status: number; body: string } | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return { status: response.status, body: await response.text() };
    } catch {
      return undefined;
    }
  }

  async metric(series: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    if (line === undefined) throw new Error(`${this.name} exposes no ${series}`);
    return Number(line.slice(series.length + 1));
  }

  /** Parsed JSON log lines (pino), with the non-JSON ones (a crash's stack trace) left out. */
  records(): Array<Record<string, unknown>> {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  hasLogged(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }

  /** Sends SIGTERM and waits for the exit; a process that outlives `timeoutMs` fails the test. */
  async stop(timeoutMs = 60_000): Promise<Exit> {
    this.kill('SIGTERM');
    return this.waitForExit(timeoutMs);
  }

  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
