import { inspect } from 'node:util';
import { LoggerPort } from '../../src/application/ports/logger.port';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** Keeps every log line with its fields, for tests that check what was (or must never be) logged. */
export class LoggerSpy implements LoggerPort {
  readonly lines: LogLine[] = [];

  debug(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', message, fields });
  }

  messages(level?: LogLevel): string[] {
    return this.lines.filter((line) => level === undefined || line.level === level).map((line) => line.message);
  }

  hasLogged(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line.message));
  }

  /** Every line as text, fields included at any depth: to search for a secret. */
  text(): string[] {
    return this.lines.map(({ level, message, fields }) => `${level} ${message} ${inspect(fields, { depth: 10 })}`);
  }
}
