import pino, { Logger } from 'pino';
import type pretty from 'pino-pretty';
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
  // The HTTP API's bearer tokens, wherever a request's headers might be logged.
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
];

export const createPinoLogger = (level: string, destination?: pino.DestinationStream): Logger =>
  pino({ level, base: { service: 'orderflow' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);

export interface LogOutput {
  readonly format: 'json' | 'pretty';
  /** 1 (stdout) or 2 (stderr). */
  readonly fd: 1 | 2;
}

/**
 * Where log lines go, and in which shape. `pretty` is pino-pretty's one readable line per entry,
 * for a terminal (`[12:00:01.250] WARN: Archive writes failing {"cause":"…"}`); `json` is pino's
 * own line, for log collectors. Both are written synchronously, so the last lines before an exit
 * are not lost. `to` replaces the file descriptor (tests capture the lines).
 */
export const logDestination = ({ format, fd }: LogOutput, to?: NodeJS.WritableStream): pino.DestinationStream => {
  if (format === 'json') return to ?? pino.destination({ dest: fd, sync: true });
  // Loaded only for a terminal's format: JSON logging never pays for it (adr/0023).
  const prettyStream = require('pino-pretty') as typeof pretty;
  return prettyStream({
    destination: to ?? fd,
    sync: true,
    singleLine: true,
    colorize: to === undefined && (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY) === true,
    translateTime: 'UTC:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
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
