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
