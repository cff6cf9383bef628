import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const STACK_ENV_FILE = path.join(REPO_ROOT, '.local-stack', 'jest-stack.json');

/** Where the integration tests' real Kafka, S3 and PostgreSQL are; written by the global setup. */
export interface StackEnv {
  readonly source: 'environment' | 'testcontainers' | 'native-stack';
  readonly kafkaBrokers: string;
  readonly cosEndpoint: string;
  readonly cosBucket: string;
  readonly cosAccessKeyId: string;
  readonly cosSecretAccessKey: string;
  /** A postgres:// URL of a database the suites may create schemas in. */
  readonly databaseUrl: string;
  /** The SASL_SSL listener that mimics Event Streams (native stack only). */
  readonly sasl?: { brokers: string; username: string; password: string; caFile: string };
  /** The bucket must be created by the tests (testcontainers' MinIO starts empty). */
  readonly createBucket?: boolean;
  /** Whether scripts/stack/stack.sh started the servers (and so can stop and restart them). */
  readonly stackScript: boolean;
  /** Where scripts/stack/stack.sh keeps the servers' state and pid files (STACK_DIR); set when stackScript is. */
  readonly stackDir?: string;
}

export const readStackEnv = (): StackEnv => {
  try {
    return JSON.parse(readFileSync(STACK_ENV_FILE, 'utf8')) as StackEnv;
  } catch (error) {
    throw new Error(`No integration stack description at ${STACK_ENV_FILE}: run the tests through jest (global setup). ${String(error)}`);
  }
};
