import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { stackConfig } from '../../support/integration-config';
import { readStackEnv, REPO_ROOT } from '../../support/stack-env';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The CLI as a user starts it: the bin, through a symlink (what npx, `npm link` and a global
 * install create) and through npx itself, from a build of the current sources, with nothing in
 * the environment but PATH and HOME. Also a production install from the packed package.
 */
describe('the orderflow bin', () => {
  let pkg: string;

  beforeAll(() => {
    // A package directory of its own: bin/, a fresh dist/, package.json, and the repo's node_modules.
    pkg = mkdtempSync(path.join(tmpdir(), 'orderflow-bin-'));
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')]);
    mkdirSync(path.join(pkg, 'bin'));
    copyFileSync(path.join(REPO_ROOT, 'bin', 'orderflow.js'), path.join(pkg, 'bin', 'orderflow.js'));
    // As packed: built already, so without the scripts (npx installs the package into its cache, which runs `prepare`).
    const { scripts: _scripts, ...manifest } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify(manifest, null, 2));
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
    mkdirSync(path.join(pkg, 'link'));
    symlinkSync(path.join(pkg, 'bin', 'orderflow.js'), path.join(pkg, 'link', 'orderflow'));
  }, 120_000);

  interface Outcome {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
  }

  /** Runs a command in the package directory with a bare environment (plus `env`); never rejects. */
  const cli = async (command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> => {
    try {
      const { stdout, stderr } = await run(command, [...args], {
        cwd: pkg,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };
  const viaSymlink = (args: readonly string[], env?: Record<string, string>) => cli(path.join(pkg, 'link', 'orderflow'), args, env);
  const viaNpx = (args: readonly string[], env?: Record<string, string>) => cli('npx', ['--no-install', 'orderflow', ...args], env);

  it('prints its help through a symlink and through npx', async () => {
    for (const outcome of [await viaSymlink(['--help']), await viaNpx(['--help'])]) {
      expect(outcome).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: orderflow') });
      expect(outcome.stdout).toMatch(/consume/);
    }
  });

  it('prints its version', async () => {
    expect(await viaNpx(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it("lists each command's environment variables in its --help", async () => {
    for (const command of ['consume', 'produce', 'check', 'replay-dlq']) {
      const { stdout } = await viaSymlink([command, '--help']);
      expect(stdout).toContain('KAFKA_BROKERS');
      expect(stdout).toContain('Configuration reference');
    }
    expect((await viaSymlink(['consume', '--help'])).stdout).toContain('COS_ENDPOINT');
  });

  it('`npx orderflow check` with nothing configured exits non-zero and names every problem', async () => {
    const outcome = await viaNpx(['check']);
    expect(outcome.code).not.toBe(0);
    for (const problem of ['KAFKA_BROKERS is required', 'COS_ENDPOINT is required', 'COS_BUCKET is required', 'COS credentials are missing']) {
      expect(outcome.stderr).toContain(problem);
    }
  });

  it('produce against a port where no broker listens fails with the cause on stderr, stdout clean, client retries only at debug', async () => {
    const quiet = await viaSymlink(['produce', '--count', '10'], { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toMatch(/nothing published to orders\.v1: .*no Kafka broker answered at 127\.0\.0\.1:1/);
    expect(quiet.stderr).not.toContain('kafkajs');

    const debug = await viaSymlink(['produce', '--count', '10'], { KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' });
    expect(debug.code).toBe(1);
    expect(debug.stdout).toBe('');
    expect(debug.stderr).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] DEBUG: .*"component":"kafkajs/m);
  });

  describe('produce --file against the stack', () => {
    const config = stackConfig();
    const admin = new KafkaTopicAdmin({ brokers: config.kafka!.brokers, clientId: 'bin-test' });
    const env = (): Record<string, string> => ({ KAFKA_BROKERS: readStackEnv().kafkaBrokers, ORDERS_TOPIC: config.ordersTopic });
    const published = async (): Promise<number> =>
      (await admin.consumerLag(config.consumerGroup, config.ordersTopic)).partitions.reduce((sum, p) => sum + p.end, 0);
    const file = (name: string, lines: readonly unknown[]): string => {
      const target = path.join(pkg, name);
      writeFileSync(target, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
      return target;
    };
    const order = (id: string, channel = 'web') => ({ id, customer: 'C-9', total: 10, channel, produced_at: '2026-11-22T10:00:00.000Z' });

    beforeAll(async () => {
      await admin.ensureTopics([{ topic: config.ordersTopic, partitions: 1 }]);
    });
    afterAll(async () => {
      await admin.deleteTopics([config.ordersTopic]).catch(() => undefined);
      await admin.close();
    });

    it('refuses a partly broken file whole, naming each bad line, and publishes nothing', async () => {
      const broken = file('broken.ndjson', [order('o-1'), order('o-2', 'fax'), '{"id": "truncated', order('o-3')]);
      const outcome = await viaSymlink(['produce', '--file', broken], env());
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toContain('refused: nothing published');
      expect(outcome.stdout).toMatch(/line 2: ORDER\.UNKNOWN_CHANNEL/);
      expect(outcome.stdout).toMatch(/line 3: /);
      expect(await published()).toBe(0);
    });

    it('--dry-run checks a valid file and publishes nothing; without it the file is published', async () => {
      const valid = file('valid.ndjson', [order('o-1'), order('o-2', 'partner'), order('o-3', 'mobile')]);
      const dry = await viaSymlink(['produce', '--file', valid, '--dry-run'], env());
      expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining('dry run: nothing published') });
      expect(await published()).toBe(0);

      const real = await viaSymlink(['produce', '--file', valid], env());
      expect(real.code).toBe(0);
      expect(real.stdout).toMatch(/delivered\s+3 /);
      expect(await published()).toBe(3);
    });
  });

  it('installs for production from the packed package (npm install --omit=dev), with a working CLI', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'orderflow-pack-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))!;
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'orderflow-app', private: true }));
    execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--silent', path.join(work, tarball)], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    expect(readdirSync(path.join(app, 'node_modules'))).not.toContain('typescript');
    const bin = path.join(app, 'node_modules', '.bin', 'orderflow');
    expect(await cli(bin, ['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const demo = await cli(bin, ['demo', '--orders', '50', '--bad-ratio', '0', '--data-dir', path.join(work, 'data')]);
    expect(demo).toMatchObject({ code: 0, stdout: expect.stringContaining('archived        50 orders') });
  }, 180_000);
});
