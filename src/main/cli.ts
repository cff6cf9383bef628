import { Command, InvalidArgumentError } from 'commander';
import { formatSummary, runDemo } from './demo';

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
