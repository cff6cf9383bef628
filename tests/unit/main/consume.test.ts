import { Container } from 'inversify';
import { EventEmitter } from 'node:events';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { runConsume } from '../../../src/main/commands/consume';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { TOKENS } from '../../../src/main/di-tokens';
import { aWireOrder, wireBytes } from '../../support/builders';
import { LoggerSpy } from '../../support/logger-spy';

const CONFIG: AppConfig = { ...EMBEDDED_DEFAULTS, archive: 'memory', httpPort: 0, logLevel: 'silent', shutdownDeadlineMs: 10_000 };

/**
 * `orderflow consume` on the in-memory bus and archive, with the process's signals and exit
 * replaced: the whole command, start to end, without a broker.
 */
const startConsume = (replace: (container: Container) => void = () => {}, config: AppConfig = CONFIG) => {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const logger = new LoggerSpy();
  let container: Container | undefined;
  const exitCode = runConsume(config, {
    signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
    exit: (code) => void exits.push(code),
    overrides: (c) => {
      container = c;
      c.rebindSync(TOKENS.Logger).toConstantValue(logger);
      replace(c);
    },
  });
  const port = (): number => logger.lines.find((line) => line.message.startsWith('Serving'))!.fields.port as number;
  return { exitCode, signals, exits, logger, port, container: () => container! };
};

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const answers = async (port: number): Promise<boolean> => {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
};

describe('orderflow consume', () => {
  it('archives while it runs, and on SIGTERM drains, stops listening, closes its server and resolves 0', async () => {
    const consume = startConsume();
    await until(() => consume.logger.hasLogged(/^Consuming$/), 'the pipeline to start');
    const bus = consume.container().get(TOKENS.MessageBus) as InMemoryMessageBus;
    const archive = consume.container().get(TOKENS.Archive) as InMemoryOrderArchive;
    await bus.publish(CONFIG.ordersTopic, Array.from({ length: 30 }, (_, i) => ({ key: `o-${i}`, value: wireBytes(aWireOrder({ id: `o-${i}` })) })));
    await bus.caughtUp(CONFIG.consumerGroup, CONFIG.ordersTopic);
    expect(await answers(consume.port())).toBe(true);

    consume.signals.emit('SIGTERM', 'SIGTERM');
    await expect(consume.exitCode).resolves.toBe(0);
    expect(await archive.list('')).toHaveLength(30);
    expect(consume.exits).toEqual([]);
    expect(consume.signals.listenerCount('SIGTERM')).toBe(0);
    expect(await answers(consume.port())).toBe(false);
    expect(consume.logger.hasLogged(/orderflow consume stopped$/)).toBe(true);
  });

  it('stops before joining the group when SIGTERM arrives during start-up, instead of dying by the signal', async () => {
    const consume = startConsume();
    // runConsume has not reached its first await yet: the signal lands in the middle of start-up.
    consume.signals.emit('SIGTERM', 'SIGTERM');
    await expect(consume.exitCode).resolves.toBe(0);
    expect(consume.logger.hasLogged(/Shutting down during start-up/)).toBe(true);
    expect(consume.logger.hasLogged(/stopped before it joined the group/)).toBe(true);
    expect(consume.logger.hasLogged(/^Consuming$/)).toBe(false);
    expect(consume.exits).toEqual([]);
    // Whether the signal landed before or after the server started listening, none is left open.
    if (consume.logger.hasLogged(/^Serving/)) expect(await answers(consume.port())).toBe(false);
  });

  it('resolves 1 with the cause when the pipeline cannot start, and leaves no server open', async () => {
    const consume = startConsume((c) => {
      const bus = new InMemoryMessageBus();
      bus.subscribe = async () => {
        throw new Error('group authorization failed for order-consumer-group');
      };
      c.rebindSync(TOKENS.MessageBus).toConstantValue(bus);
    });
    await expect(consume.exitCode).resolves.toBe(1);
    const failure = consume.logger.lines.find((line) => line.level === 'error');
    expect(failure).toMatchObject({ message: 'The consumer could not start', fields: { err: 'group authorization failed for order-consumer-group' } });
    expect(await answers(consume.port())).toBe(false);
    expect(consume.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('answers /readyz with 503 while the dead-letter topic refuses writes', async () => {
    const consume = startConsume((c) =>
      c.rebindSync(TOKENS.DeadLettersFor).toConstantValue(() => ({
        send: async () => {
          throw new Error('MESSAGE_TOO_LARGE: the dead-letter topic refused the record');
        },
      })),
    );
    await until(() => consume.logger.hasLogged(/^Consuming$/), 'the pipeline to start');
    const bus = consume.container().get(TOKENS.MessageBus) as InMemoryMessageBus;
    await bus.publish(CONFIG.ordersTopic, [{ key: 'bad', value: Buffer.from('not json') }]);
    await until(() => consume.logger.hasLogged(/^Dead-letter write failed/), 'the dead-letter write to fail');
    const response = await fetch(`http://127.0.0.1:${consume.port()}/readyz`, { signal: AbortSignal.timeout(2_000) });
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/dead-letter-writes/);

    consume.signals.emit('SIGTERM', 'SIGTERM');
    await expect(consume.exitCode).resolves.toBe(0);
  });

  describe('/topk', () => {
    const topCustomers = async (config: AppConfig): Promise<string[]> => {
      const consume = startConsume(() => {}, config);
      try {
        await until(() => consume.logger.hasLogged(/^Consuming$/), 'the pipeline to start');
        const bus = consume.container().get(TOKENS.MessageBus) as InMemoryMessageBus;
        await bus.publish(config.ordersTopic, [
          { key: 'o-1', value: wireBytes(aWireOrder({ id: 'o-1', customer: 'C-9', total: 900 })) },
          { key: 'o-2', value: wireBytes(aWireOrder({ id: 'o-2', customer: 'K-4711', total: 100 })) },
        ]);
        await bus.caughtUp(config.consumerGroup, config.ordersTopic);
        const top = (await (await fetch(`http://127.0.0.1:${consume.port()}/topk`)).json()) as Array<{ customer: string }>;
        return top.map((order) => order.customer);
      } finally {
        consume.signals.emit('SIGTERM', 'SIGTERM');
        await consume.exitCode;
      }
    };

    it('masks customer ids by default', async () => {
      expect(await topCustomers(CONFIG)).toEqual(['C***', 'K***']);
    });

    it('shows them with ORDERFLOW_TOPK_SHOW_CUSTOMERS=true', async () => {
      expect(await topCustomers({ ...CONFIG, topKShowCustomers: true })).toEqual(['C-9', 'K-4711']);
    });
  });

  it('binds the status server to HTTP_HOST', async () => {
    const consume = startConsume(() => {}, { ...CONFIG, httpHost: '127.0.0.1' });
    await until(() => consume.logger.hasLogged(/^Consuming$/), 'the pipeline to start');
    expect(consume.logger.lines.find((line) => line.message.startsWith('Serving'))?.fields).toMatchObject({ host: '127.0.0.1' });
    expect(await answers(consume.port())).toBe(true);
    consume.signals.emit('SIGTERM', 'SIGTERM');
    await expect(consume.exitCode).resolves.toBe(0);
  });
});
