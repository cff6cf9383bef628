import { Writable } from 'node:stream';
import { createPinoLogger, logDestination } from '../../../src/adapters/pino/pino-logger';

const capture = (): { lines: string[]; sink: Writable } => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  return { lines, sink };
};

describe('log formats', () => {
  it('LOG_FORMAT=pretty writes one readable line per entry: time, level, message and the fields, secrets redacted', () => {
    const { lines, sink } = capture();
    const logger = createPinoLogger('info', logDestination({ format: 'pretty', fd: 1 }, sink));
    logger.warn({ cause: 'SlowDown from the store', attempt: 3, sasl: { password: 'p4ss' } }, 'Archive writes failing');
    const text = lines.join('');
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: Archive writes failing /);
    expect(text).toContain('"cause":"SlowDown from the store"');
    expect(text).toContain('"attempt":3');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('p4ss');
    expect(text.trimEnd().split('\n')).toHaveLength(1);
  });

  it('LOG_FORMAT=json writes pino\'s own line', () => {
    const { lines, sink } = capture();
    createPinoLogger('info', logDestination({ format: 'json', fd: 1 }, sink)).info({ n: 1 }, 'hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'hello', n: 1, service: 'orderflow' });
  });
});
