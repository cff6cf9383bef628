import pino, { Logger } from 'pino';
import { LoggerPort } from '../../application/ports/logger.port';

/**
 * Field names that must never reach a log line. pino's redaction is a second line of defence:
 * the first is that adapters never put credentials into log fields or error messages.
 */
const REDACTED_PATHS = [
  'password',
  'apiKey',
  'secretAccessKey',
  'sasl.password',
  'credentials',
  '*.password',
  '*.apiKey',
  '*.secretAccessKey',
];

export const createPinoLogger = (level: string, destination?: pino.DestinationStream): Logger =>
  pino({ level, base: { service: 'orderflow' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);

export interface LogOutput {
  readonly format: 'json' | 'pretty';
  /** 1 (stdout) or 2 (stderr). */
  readonly fd: 1 | 2;
}

/**
 * Where log lines go, and in which shape. `pretty` is one readable line per entry for a terminal
 * (`12:00:01.250 WARN  Archive writes failing  cause="…"`); `json` is pino's own line, for log
 * collectors. Written synchronously, so the last lines before an exit are not lost.
 */
export const logDestination = ({ format, fd }: LogOutput): pino.DestinationStream => {
  const out = pino.destination({ dest: fd, sync: true });
  return format === 'json' ? out : { write: (line: string) => void out.write(prettyLine(line)) };
};

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown in the line's head or not at all. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

/** One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value…`; a line that is not JSON passes as it is. */
export const prettyLine = (line: string): string => {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const level = (LEVEL_NAMES[Number(entry.level)] ?? String(entry.level)).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/[\s"=]/.test(value) ? value : JSON.stringify(value)}`);
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
};

export class PinoLogger implements LoggerPort {
  constructor(private readonly logger: Logger) {}

  debug(fields: Record<string, unknown>, message: string): void {
    this.logger.debug(fields, message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.logger.info(fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.logger.warn(fields, message);
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.logger.error(fields, message);
  }
}
