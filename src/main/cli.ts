import { Command, InvalidArgumentError } from 'commander';
import { formatChecks, runChecks } from './commands/check';
import { runConsume } from './commands/consume';
import { formatReplaySummary, runReplay } from './commands/replay-dlq';
import { formatProduceSummary, openInput, produce } from './commands/produce';
import { formatSummary, runDemo } from './demo';
import { CommandProfile, ConfigError, environmentWithDotEnv, loadConfig } from './env-config';
import { buildContainer } from './container';
import { TOKENS } from './di-tokens';
import { IoTsOrderCodec } from '../adapters/io-ts/io-ts-order-codec';
import { KafkaMessageBus } from '../adapters/kafka/kafka-message-bus';

/** Loads the configuration, or prints every problem and exits 2 (a usage error, not a crash). */
const configFor = (profile: CommandProfile) => {
  try {
    return loadConfig(environmentWithDotEnv(), profile);
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

export const buildCli = (): Command => {
  const program = new Command()
    .name('orderflow')
    .description('Event-driven order pipeline: Kafka / IBM Event Streams in, IBM COS out.')
    .showHelpAfterError();

  program
    .command('demo')
    .description('Run the pipeline on the embedded default: in-memory bus, filesystem archive, no servers needed')
    .option('--orders <n>', 'orders to generate', positiveInt('--orders'), 20_000)
    .option('--bad-ratio <r>', 'share of deliberately malformed messages (0-1)', ratio, 0.005)
    .option('--data-dir <dir>', 'root of the filesystem archive', 'data')
    .option('--seed <n>', 'seed of the order generator', positiveInt('--seed'), 42)
    .action(async (options: { orders: number; badRatio: number; dataDir: string; seed: number }) => {
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
    .action(async () => {
      const code = await runConsume(configFor({ bus: 'kafka', archive: 'cos' }));
      // Everything is committed and closed by now. Exiting explicitly rather than when the event
      // loop empties: kafkajs can leave a socket or a retry timer behind after a broker restart
      // (tulios/kafkajs#1147), and a service that never exits is one an orchestrator must kill.
      process.exit(code);
    });

  program
    .command('produce')
    .description('Publish orders: generated (--count, --rate), or NDJSON from --file F or stdin (--file -)')
    .option('--count <n>', 'generated orders to publish', positiveInt('--count'))
    .option('--rate <r>', 'orders per second at most', nonNegative)
    .option('--file <path>', 'NDJSON orders to publish ("-" for stdin)')
    .option('--raw', 'send NDJSON lines as they are, even invalid ones (to exercise the dead-letter path)', false)
    .action(async (options: { count?: number; rate?: number; file?: string; raw: boolean }) => {
      const config = configFor({ bus: 'kafka', archive: 'memory' });
      const file = options.file ?? (options.count === undefined && !process.stdin.isTTY ? '-' : undefined);
      if (options.count === undefined && file === undefined) {
        throw new InvalidArgumentError('nothing to produce: give --count N, --file F, or pipe NDJSON on stdin');
      }
      const container = buildContainer({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
      const bus = container.get(TOKENS.MessageBus);
      const input = openInput(file, process.stdin);
      const summary = await produce(bus, new IoTsOrderCodec(), {
        topic: config.ordersTopic,
        raw: options.raw,
        ...(options.count === undefined ? {} : { count: options.count }),
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        ...(input === undefined ? {} : { input }),
      });
      if (bus instanceof KafkaMessageBus) await bus.close();
      process.stdout.write(formatProduceSummary(summary, config.ordersTopic));
      // Invalid input lines are not deliveries, but they were not published either: say so in the exit code.
      process.exitCode = summary.failed > 0 || (summary.invalid > 0 && !options.raw) ? 1 : 0;
    });

  program
    .command('replay-dlq')
    .description('Publish dead letters back to the orders topic once their cause is fixed (adr/0009); stops at the end of DLQ_TOPIC')
    .option('--code <codes...>', 'only dead letters with these codes (the orderflow.errors.code header), e.g. ORDER.UNKNOWN_CHANNEL')
    .option('--to <topic>', 'publish to this topic instead of ORDERS_TOPIC')
    .option('--dry-run', 'count what would be replayed, by code; publish and commit nothing', false)
    .action(async (options: { code?: string[]; to?: string; dryRun: boolean }) => {
      const config = configFor({ bus: 'kafka', archive: 'memory' });
      const summary = await runReplay(config, { codes: options.code, to: options.to, dryRun: options.dryRun });
      process.stdout.write(formatReplaySummary(summary, { from: config.dlqTopic, to: options.to ?? config.ordersTopic, dryRun: options.dryRun }));
    });

  program
    .command('check')
    .description('Validate the configuration: connect to Kafka, list topics, and check that the bucket is reachable and writable')
    .action(async () => {
      const results = await runChecks(configFor({ bus: 'kafka', archive: 'cos' }));
      process.stdout.write(formatChecks(results));
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    });

  return program;
};

if (require.main === module || process.argv[1]?.endsWith('orderflow.js') === true) {
  buildCli()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`orderflow: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
