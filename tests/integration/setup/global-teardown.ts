import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { readStackEnv, REPO_ROOT } from '../../support/stack-env';

/** Stops what the setup started. ORDERFLOW_KEEP_STACK=1 leaves the native stack up for the next run. */
export default async function globalTeardown(): Promise<void> {
  const containers = (globalThis as Record<string, unknown>).__ORDERFLOW_CONTAINERS__ as
    | Array<{ stop(): Promise<unknown> }>
    | undefined;
  if (containers) await Promise.all(containers.map((c) => c.stop()));
  const env = readStackEnv();
  if (env.stackScript && process.env.ORDERFLOW_KEEP_STACK !== '1') {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/stack/stack.sh'), 'down'], { stdio: 'inherit' });
  }
}
