import { readFileSync } from 'node:fs';

/**
 * Reads the env file `stack.sh up` writes (`export NAME=value` lines) and returns a getter that
 * names the file and the variable when one is missing. One reader for everything that starts the
 * native stack: the integration tests' global setup, the fault suite's private stack, the bench.
 */
export const readStackEnvFile = (file: string): ((name: string) => string) => {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) vars[match[1]!] = match[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return (name) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`${file} has no ${name}; rerun npm run stack:up`);
    return value;
  };
};
