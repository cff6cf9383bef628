import { Writable } from 'node:stream';
import { createPinoLogger, prettyLine } from '../../../src/adapters/pino/pino-logger';

describe('LOG_FORMAT=pretty', () => {
  it('turns a pino line into time, level, message and the fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
    createPinoLogger('info', sink).warn({ cause: 'SlowDown from the store', attempt: 3, sasl: { password: 'p4ss' } }, 'Archive writes failing');
    const pretty = prettyLine(lines[0]!);
    expect(pretty).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} WARN  Archive writes failing  cause="SlowDown from the store" attempt=3 sasl=\{"password":"\[redacted\]"\}\n$/);
    expect(pretty).not.toContain('p4ss');
  });

  it('passes a line that is not JSON as it is', () => {
    expect(prettyLine('not json\n')).toBe('not json\n');
  });
});
