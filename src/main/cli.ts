import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { formatChecks, runChecks } from './commands/check';
import { runConsume } from './commands/consume';
import { runStages } from './commands/run';
import { apiStagesProblem, startOrderApi } from './commands/api';
import { STAGE_NAMES } from '../application/stages/stage-names';
import { parseStageList } from '../application/stages/stage-names';
import { LIFECYCLE_VARIABLES, loadLifecycleConfig } from './lifecycle-config';
import { formatReplaySummary, runReplay } from './commands/replay-dlq';
import {
  consumerCheck,
  formatCheckedInput,
  formatProduceSummary,
  generatedOrders,
  openInput,
  produce,
  ProduceSummary,
  readOrders,
} from './commands/produce';
import { formatSummary, runDemo } from './demo';
import { AppConfig } from './config';
import { CommandProfile, ConfigError, environmentWithDotEnv, loadConfig } from './env-config';
import { buildContainer } from './container';
import { TOKENS } from './di-tokens';
import { OutboundMessage } from '../application/ports/message-bus.port';
import { Resources } from '../application/resources';

/**
 * Loads the configuration, or prints every problem and exits 2 (a usage error, not a crash).
 * Commands whose stdout is a report log to stderr; the service logs to stdout.
 */
const configFor = (profile: CommandProfile, output: 'service' | 'report' = 'report'): AppConfig => {
  try {
    const config = loadConfig(environmentWithDotEnv(), profile);
    return output === 'service' ? config : { ...config, logDestination: 'stderr' };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`orderflow: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
};

const nonNegative = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`must be a number > 0, got "${value}"`);
  return parsed;
};

const positiveInt = (name: string) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1, got "${value}"`);
  return parsed;
};

const ratio = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError(`must be between 0 and 1, got "${value}"`);
  return parsed;
};

/**
 * The package's version, from the nearest orderflow package.json above this file: beside dist/ when
 * installed, beside src/ under ts-jest, and above the private builds the integration tests make.
 */
const packageVersion = (): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'orderflow' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No (readable) package.json here: look further up.
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
};

/** What each command reads from the environment (or `.env`), for its --help; the README's table says what each means. */
const ENVIRONMENT = {
  logging: ['LOG_LEVEL', 'LOG_FORMAT'],
  kafka: [
    'KAFKA_BROKERS (ES_BOOTSTRAP, EVENT_STREAMS_KAFKA_BROKERS_SASL)',
    'KAFKA_SASL_USERNAME (ES_USERNAME, EVENT_STREAMS_USER)',
    'KAFKA_SASL_PASSWORD (ES_PASSWORD, EVENT_STREAMS_PASSWORD)',
    'KAFKA_SASL_MECHANISM',
    'KAFKA_SSL',
    'KAFKA_SSL_CA_FILE',
    'KAFKA_CLIENT_ID',
    'KAFKA_COMPRESSION',
    'ORDERS_TOPIC (ES_TOPIC)',
    'KAFKA_TOPIC_PREFIX',
  ],
  cos: [
    'COS_ENDPOINT',
    'COS_BUCKET',
    'COS_API_KEY + COS_INSTANCE_CRN, or COS_ACCESS_KEY_ID + COS_SECRET_ACCESS_KEY',
    'COS_IAM_ENDPOINT',
    'COS_FORCE_PATH_STYLE',
    'COS_MAX_CONCURRENCY',
    'COS_CLIENT',
    'COS_PREFIX',
  ],
  adapters: ['ORDERFLOW_BUS', 'ORDERFLOW_ARCHIVE', 'DATA_DIR'],
  lifecycle: ['ORDERFLOW_STAGES', ...LIFECYCLE_VARIABLES],
  api: ['ORDERFLOW_API_TOKENS', 'ORDERFLOW_API_SEND_TIMEOUT_MS', 'ORDERFLOW_API_MAX_WAITERS', 'ORDERFLOW_MAX_MESSAGE_BYTES', 'ORDERFLOW_STAGES', 'HTTP_HOST', 'HTTP_PORT'],
  consume: [
    'DLQ_TOPIC',
    'CONSUMER_GROUP',
    'KAFKA_TOPIC_PARTITIONS',
    'KAFKA_CREATE_TOPICS',
    'KAFKA_MAX_PARTITION_FETCH_BYTES',
    'KAFKA_FETCH_MIN_BYTES',
    'KAFKA_FETCH_MAX_WAIT_MS',
    'KAFKA_COMMIT_INTERVAL_MS',
    'KAFKA_SESSION_TIMEOUT_MS',
    'ORDERFLOW_SINK',
    'ORDERFLOW_BATCH_MAX_MESSAGES',
    'ORDERFLOW_BATCH_MAX_SPAN_MS',
    'ORDERFLOW_BATCH_IDLE_FLUSH_MS',
    'ORDERFLOW_MAX_IN_FLIGHT',
    'ORDERFLOW_MAX_MESSAGE_BYTES',
    'ORDERFLOW_SHUTDOWN_DEADLINE_MS',
    'ORDERFLOW_TOP_K',
    'ORDERFLOW_TOPK_SHOW_CUSTOMERS',
    'HTTP_HOST',
    'HTTP_PORT',
  ],
} as const;

const environmentHelp = (...groups: ReadonlyArray<readonly string[]>): string =>
  [
    '',
    'Environment (or a .env file in the working directory; the shell wins):',
    ...groups.flat().map((name) => `  ${name}`),
    'Every variable, its default and meaning: README.md, "Configuration reference". Template: .env.example.',
  ].join('\n');

export const buildCli = (): Command => {
  const program = new Command()
    .name('orderflow')
    .description('Event-driven order pipeline: Kafka / IBM Event Streams in, IBM COS out.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .addHelpText('after', '\nEach command lists the environment variables it reads in its --help (orderflow <command> --help).');

  program
    .command('demo')
    .description('Run the pipeline on the embedded default: in-memory bus, filesystem archive, no servers needed')
    .option('--orders <n>', 'orders to generate', positiveInt('--orders'), 20_000)
    .option('--bad-ratio <r>', 'share of deliberately malformed messages (0-1)', ratio, 0.005)
    .option('--data-dir <dir>', 'root of the filesystem archive', 'data')
    .option('--seed <n>', 'seed of the order generator: the same seed gives the same orders and ids', positiveInt('--seed'), 42)
    .option('--clean', "delete the demo's archive (<data-dir>/orders/) first; nothing else under --data-dir is touched", false)
    .addHelpText('after', '\nEnvironment: none; the demo runs on the embedded defaults (in-memory bus, filesystem archive).')
    .action(async (options: { orders: number; badRatio: number; dataDir: string; seed: number; clean: boolean }) => {
      const tty = process.stderr.isTTY === true;
      let lastPrinted = 0;
      process.stderr.write(`Generating ${options.orders.toLocaleString('en-US')} orders…\n`);
      const summary = await runDemo({
        ...options,
        progress: (line, final) => {
          // On a terminal the progress line rewrites itself; in CI logs it prints every 2 s at most.
          if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
          else if (final || Date.now() - lastPrinted >= 2_000) {
            lastPrinted = Date.now();
            process.stderr.write(`${line}\n`);
          }
        },
      });
      process.stdout.write(formatSummary(summary));
    });

  program
    .command('consume')
    .description('Run the service: consume orders from Kafka, archive them to COS, serve /healthz /readyz /metrics /topk')
    .addHelpText('after', environmentHelp(ENVIRONMENT.kafka, ENVIRONMENT.cos, ENVIRONMENT.consume, ENVIRONMENT.adapters, ENVIRONMENT.logging))
    .action(async () => {
      const code = await runConsume(configFor({ bus: 'kafka', archive: 'cos' }, 'service'));
      // Everything is committed and closed by now. Exiting explicitly rather than when the event
      // loop empties: kafkajs can leave a socket or a retry timer behind after a broker restart
      // (tulios/kafkajs#1147), and a service that never exits is one an orchestrator must kill.
      process.exit(code);
    });

  program
    .command('run')
    .description('Run lifecycle stages in one process (default: every stage): validation, payment, inventory, fulfillment, notification, archive')
    .option('--stages <list>', 'comma-separated stages to run (default: ORDERFLOW_STAGES, else all)')
    .addHelpText(
      'after',
      environmentHelp(ENVIRONMENT.kafka, ENVIRONMENT.cos, ENVIRONMENT.consume, ENVIRONMENT.lifecycle, ENVIRONMENT.adapters, ENVIRONMENT.logging),
    )
    .action(async (options: { stages?: string }) => {
      const env = environmentWithDotEnv();
      let stages;
      let lifecycle;
      try {
        stages = parseStageList(options.stages ?? env.ORDERFLOW_STAGES);
        lifecycle = loadLifecycleConfig(env);
      } catch (error) {
        process.stderr.write(`orderflow: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
      }
      // COS is needed only by the archive stage; without it the archive binding stays in memory, unused.
      const config = configFor({ bus: 'kafka', archive: stages.includes('archive') ? 'cos' : 'memory' }, 'service');
      const code = await runStages({ ...config, lifecycle }, stages);
      // As consume: everything is committed and closed; exit rather than wait for a stray kafkajs timer.
      process.exit(code);
    });

  program
    .command('api')
    .description('Serve the HTTP order API (place, update, get, list, wait; /openapi.json and /docs); without KAFKA_BROKERS every stage runs in this process too')
    .option('--stages <list>', 'comma-separated stages to run here as well (default: every stage on the embedded default, none on Kafka)')
    .addHelpText('after', environmentHelp(ENVIRONMENT.api, ENVIRONMENT.kafka, ENVIRONMENT.lifecycle, ENVIRONMENT.cos, ENVIRONMENT.adapters, ENVIRONMENT.logging))
    .action(async (options: { stages?: string }) => {
      const env = environmentWithDotEnv();
      const onKafka = ['KAFKA_BROKERS', 'ES_BOOTSTRAP', 'EVENT_STREAMS_KAFKA_BROKERS_SASL'].some((name) => (env[name] ?? '').trim() !== '');
      const listed = options.stages ?? env.ORDERFLOW_STAGES;
      let stages;
      let lifecycle;
      try {
        // On the embedded default nothing else would process the orders: every stage, unless told.
        stages = listed === undefined || listed.trim() === '' ? (onKafka ? [] : STAGE_NAMES) : parseStageList(listed);
        lifecycle = loadLifecycleConfig(env);
      } catch (error) {
        process.stderr.write(`orderflow: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
      }
      const config = {
        ...configFor({ bus: onKafka ? 'kafka' : 'memory', archive: onKafka && stages.includes('archive') ? 'cos' : 'memory' }, 'service'),
        lifecycle,
      };
      const problem = apiStagesProblem(config, stages);
      if (problem !== undefined) {
        process.stderr.write(`orderflow: ${problem}\n`);
        process.exit(2);
      }
      let code: number;
      try {
        code = await (await startOrderApi(config, stages)).done;
      } catch (error) {
        process.stderr.write(`orderflow api: ${error instanceof Error ? error.message : String(error)}\n`);
        code = 1;
      }
      // As run: everything is committed and closed; exit rather than wait for a stray kafkajs timer.
      process.exit(code);
    });

  program
    .command('produce')
    .description('Publish orders: generated (--count, --rate), or NDJSON from --file F or stdin (--file -); a file is checked whole first')
    .option('--count <n>', 'generated orders to publish', positiveInt('--count'))
    .option('--rate <r>', 'orders per second at most', nonNegative)
    .option('--file <path>', 'NDJSON orders to publish ("-" for stdin); refused whole if any line would be dead-lettered')
    .option('--dry-run', 'check the input as the consumer would, publish nothing', false)
    .option('--raw', 'send NDJSON lines as they are, even invalid ones (to exercise the dead-letter path)', false)
    .addHelpText('after', environmentHelp(ENVIRONMENT.kafka, ['ORDERFLOW_MAX_MESSAGE_BYTES'], ENVIRONMENT.logging))
    .action(async (options: { count?: number; rate?: number; file?: string; dryRun: boolean; raw: boolean }) => {
      const config = configFor({ bus: 'kafka', archive: 'memory' });
      const file = options.file ?? (options.count === undefined && !process.stdin.isTTY ? '-' : undefined);
      if (options.count === undefined && file === undefined) {
        throw new InvalidArgumentError('nothing to produce: give --count N, --file F, or pipe NDJSON on stdin');
      }
      const container = buildContainer({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel, clientLogsAtDebug: true });
      const encoder = container.get(TOKENS.OrderEncoder);
      let messages: Iterable<OutboundMessage>;
      let invalid = 0;
      if (file !== undefined) {
        // The whole input is checked before the first message goes out: never half a file.
        const check = consumerCheck(
          { decoder: container.get(TOKENS.OrderDecoder), scorers: container.get(TOKENS.RiskScorers), clock: container.get(TOKENS.Clock), encoder },
          config.ordersTopic,
          config.maxMessageBytes,
        );
        const input = await readOrders(openInput(file, process.stdin), check, options.raw);
        if (options.dryRun || (input.invalid > 0 && !options.raw)) {
          process.stdout.write(formatCheckedInput(input, config.ordersTopic, options.dryRun ? 'dry-run' : 'refused'));
          process.exitCode = input.invalid > 0 ? 1 : 0;
          return;
        }
        messages = input.messages;
        invalid = input.invalid;
      } else {
        if (options.dryRun) {
          process.stdout.write(`orderflow produce → ${config.ordersTopic} (dry run): would publish ${options.count} generated orders\n`);
          return;
        }
        messages = generatedOrders(options.count ?? 0, encoder);
      }
      const resources = container.get(TOKENS.Resources);
      let summary: ProduceSummary;
      try {
        if (!(await resourcesReady(resources, config))) return;
        summary = await produce(container.get(TOKENS.MessageBus), messages, {
          topic: config.ordersTopic,
          ...(options.rate === undefined ? {} : { rate: options.rate }),
        });
      } finally {
        // Flushes and disconnects the producer: every publish above is settled, and counted, by now.
        await resources.close();
      }
      summary.invalid = invalid;
      process.stdout.write(formatProduceSummary(summary, config.ordersTopic));
      process.exitCode = summary.failed > 0 ? 1 : 0;
    });

  program
    .command('replay-dlq')
    .description('Publish dead letters back to the orders topic once their cause is fixed (adr/0009); stops at the end of DLQ_TOPIC')
    .option('--code <codes...>', 'only dead letters with these codes (the orderflow.errors.code header), e.g. ORDER.UNKNOWN_CHANNEL')
    .option('--to <topic>', 'publish to this topic instead of ORDERS_TOPIC')
    .option('--dry-run', 'count what would be replayed, by code; publish and commit nothing', false)
    .addHelpText('after', environmentHelp(ENVIRONMENT.kafka, ['DLQ_TOPIC', 'CONSUMER_GROUP'], ENVIRONMENT.logging))
    .action(async (options: { code?: string[]; to?: string; dryRun: boolean }) => {
      const config = configFor({ bus: 'kafka', archive: 'memory' });
      const summary = await runReplay(config, { codes: options.code, to: options.to, dryRun: options.dryRun });
      process.stdout.write(formatReplaySummary(summary, { from: config.dlqTopic, to: options.to ?? config.ordersTopic, dryRun: options.dryRun }));
    });

  program
    .command('check')
    .description('Validate the configuration: connect to Kafka, list topics, check that the bucket is reachable and writable, and that PostgreSQL answers when DATABASE_URL is set')
    .addHelpText('after', environmentHelp(ENVIRONMENT.kafka, ['DLQ_TOPIC', 'KAFKA_TOPIC_PARTITIONS', 'KAFKA_CREATE_TOPICS'], ENVIRONMENT.cos, ENVIRONMENT.adapters, ['DATABASE_URL']))
    .action(async () => {
      let lifecycle;
      try {
        lifecycle = loadLifecycleConfig(environmentWithDotEnv());
      } catch (error) {
        process.stderr.write(`orderflow: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
      }
      const results = await runChecks({ ...configFor({ bus: 'kafka', archive: 'cos' }), lifecycle });
      process.stdout.write(formatChecks(results));
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    });

  return program;
};

/**
 * Before the first publish: a broker that never answers would otherwise hold every publish for
 * its full delivery timeout (2 minutes). Starting the clients and asking them whether they are
 * ready (on Kafka, the same listing `check` does) fails within seconds; the reason goes to stderr
 * and the exit code is 1.
 */
const resourcesReady = async (resources: Resources, config: AppConfig): Promise<boolean> => {
  try {
    await resources.start();
    await resources.ready();
    return true;
  } catch (error) {
    process.stderr.write(`orderflow produce: nothing published to ${config.ordersTopic}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return false;
  }
};

/**
 * Runs the CLI. The bin calls this unconditionally: under npx, `npm link` or a global install,
 * argv[1] is `…/.bin/orderflow` (a symlink), so guessing from the script name runs nothing.
 */
export const main = (argv: readonly string[] = process.argv): Promise<void> =>
  buildCli()
    .parseAsync([...argv])
    .then(
      () => undefined,
      (error: unknown) => {
        process.stderr.write(`orderflow: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      },
    );

// `node dist/main/cli.js …` works too.
if (require.main === module) void main();
