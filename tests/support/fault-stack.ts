import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './stack-env';
import { readStackEnvFile } from '../../scripts/stack/stack-env-file';

const run = promisify(execFile);

/** Everything the fault suite writes lives here (git-ignored): the stack, the build, the consumers' logs. */
export const FAULTS_DIR = path.join(REPO_ROOT, '.local-stack-faults');

/**
 * A second, isolated Kafka + MinIO + PostgreSQL that the fault suite may break at will: the shared stack on
 * 19092/19000 serves other suites (and other people) and must never be stopped. Same installs
 * (CACHE_DIR is inherited), other ports, its own state directory. ORDERFLOW_FAULT_PORT_BASE
 * (default 29000) moves all six ports (PostgreSQL at base + 432), so two checkouts can run their fault suites side by side.
 */
export const PORT_BASE = Number(process.env.ORDERFLOW_FAULT_PORT_BASE ?? 29_000);
const SETTINGS = {
  STACK_DIR: path.join(FAULTS_DIR, 'stack'),
  KAFKA_PORT: String(PORT_BASE + 92),
  KAFKA_CONTROLLER_PORT: String(PORT_BASE + 93),
  KAFKA_SASL_PORT: String(PORT_BASE + 94),
  MINIO_PORT: String(PORT_BASE),
  MINIO_CONSOLE_PORT: String(PORT_BASE + 1),
  POSTGRES_PORT: String(PORT_BASE + 432),
  COS_BUCKET: 'faults',
} as const;

export interface FaultStackEnv {
  readonly brokers: string;
  readonly saslBrokers: string;
  readonly saslPassword: string;
  readonly caFile: string;
  readonly cosEndpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The private PostgreSQL's postgres:// URL (with its generated password). */
  readonly databaseUrl: string;
}

export class FaultStack {
  private settings: FaultStackEnv | undefined;

  /** Starts from nothing: stops a stack a crashed run may have left, wipes its state, starts both servers. */
  async up(): Promise<FaultStackEnv> {
    await this.script('purge');
    await this.script('up');
    this.settings = readEnv(path.join(SETTINGS.STACK_DIR, 'env'));
    return this.settings;
  }

  /** Stops both servers and deletes their state; idempotent. */
  async purge(): Promise<void> {
    await this.script('purge');
  }

  get env(): FaultStackEnv {
    if (this.settings === undefined) throw new Error('The fault stack is not up');
    return this.settings;
  }

  /** A clean stop (SIGTERM, as an orchestrator stops a broker), on the same data. */
  stopKafka = (): Promise<void> => this.script('stop-kafka');
  /** Resolves once the broker serves requests again. */
  startKafka = (): Promise<void> => this.script('start-kafka');
  stopMinio = (): Promise<void> => this.script('stop-minio');
  startMinio = (): Promise<void> => this.script('start-minio');
  /** A fast shutdown of PostgreSQL (open transactions roll back), on the same data and password. */
  stopPostgres = (): Promise<void> => this.script('stop-postgres');
  startPostgres = (): Promise<void> => this.script('start-postgres');

  /** Freezes or thaws MinIO: connections are accepted but never answered, the way a hung store behaves. */
  signalMinio(signal: 'SIGSTOP' | 'SIGCONT'): void {
    const pid = Number(readFileSync(path.join(SETTINGS.STACK_DIR, 'minio.pid'), 'utf8').trim());
    process.kill(pid, signal);
  }

  private async script(command: string): Promise<void> {
    try {
      await run('bash', [path.join(REPO_ROOT, 'scripts/stack/stack.sh'), command], {
        env: { ...process.env, ...SETTINGS },
        timeout: 5 * 60_000,
      });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`stack.sh ${command} failed for the fault stack: ${stderr ?? String(error)}`);
    }
  }
}

const readEnv = (file: string): FaultStackEnv => {
  const get = readStackEnvFile(file);
  return {
    brokers: get('KAFKA_BROKERS'),
    saslBrokers: get('LOCAL_KAFKA_SASL_BROKERS'),
    saslPassword: get('LOCAL_KAFKA_SASL_PASSWORD'),
    caFile: get('LOCAL_KAFKA_SSL_CA_FILE'),
    cosEndpoint: get('COS_ENDPOINT'),
    bucket: get('COS_BUCKET'),
    accessKeyId: get('COS_ACCESS_KEY_ID'),
    secretAccessKey: get('COS_SECRET_ACCESS_KEY'),
    databaseUrl: get('DATABASE_URL'),
  };
};
