import { InboundMessage } from '../src/application/ports/message-bus.port';
import { PerOrderArchiveStage } from '../src/application/stages/per-order-archive.stage';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/**
 * The benchmark runs each measured part in a child process of its own: the service's RSS is then
 * the child's whole-process RSS rather than the harness's, the harness's load generator does not
 * share the service's event loop, and `node --cpu-prof` profiles exactly one scenario.
 *
 * Protocol: the child gets its job as JSON in argv[2], may send progress messages, and ends with
 * one `result` message. The harness may send messages to it (e.g. how many orders to expect).
 */
export interface ChildMessage<T = unknown> {
  readonly type: string;
  readonly at: number;
  readonly payload?: T;
}

export interface RunningChild {
  /** Resolves with the payload of the first message of this type. */
  next<T>(type: string): Promise<ChildMessage<T>>;
  send(type: string, payload?: unknown): void;
  /** Resolves with the `result` payload once the child has exited cleanly. */
  readonly result: Promise<unknown>;
  readonly pid: number;
}

export const startChild = (script: string, job: unknown, execArgv: readonly string[] = []): RunningChild => {
  const child = fork(script, [JSON.stringify(job)], { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const seen: ChildMessage[] = [];
  const waiting: Array<{ type: string; resolve: (message: ChildMessage) => void }> = [];
  child.on('message', (raw) => {
    const message = raw as ChildMessage;
    const index = waiting.findIndex((waiter) => waiter.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
    else seen.push(message);
  });
  const result = new Promise<unknown>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      const message = seen.find((m) => m.type === 'result');
      if (code === 0 && message !== undefined) resolve(message.payload);
      else reject(new Error(`${script} exited with ${signal ?? `code ${code}`} before reporting a result`));
    });
  });
  // Someone awaiting a progress message would otherwise wait forever for a child that died.
  result.catch(() => undefined);
  return {
    pid: child.pid!,
    result,
    send: (type, payload) => child.send({ type, at: Date.now(), payload }),
    next: <T>(type: string) => {
      const index = seen.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(seen.splice(index, 1)[0] as ChildMessage<T>);
      return Promise.race([
        new Promise<ChildMessage<T>>((resolve) => waiting.push({ type, resolve: resolve as (message: ChildMessage) => void })),
        result.then(() => {
          throw new Error(`${script} ended without sending "${type}"`);
        }),
      ]);
    },
  };
};

// ---- The child's side ----

export const jobOf = <T>(): T => JSON.parse(process.argv[2] ?? '{}') as T;

export const notifyParent = (type: string, payload?: unknown): void => {
  process.send?.({ type, at: Date.now(), payload } satisfies ChildMessage);
};

const fromParent: ChildMessage[] = [];
const parentWaiters: Array<{ type: string; resolve: (message: ChildMessage) => void }> = [];
let listening = false;

/** The next message of this type from the parent, whether it arrived already or is yet to come. */
export const nextFromParent = <T>(type: string): Promise<ChildMessage<T>> => {
  if (!listening) {
    listening = true;
    process.on('message', (raw) => {
      const message = raw as ChildMessage;
      const index = parentWaiters.findIndex((waiter) => waiter.type === message.type);
      if (index >= 0) parentWaiters.splice(index, 1)[0]!.resolve(message);
      else fromParent.push(message);
    });
  }
  const index = fromParent.findIndex((message) => message.type === type);
  if (index >= 0) return Promise.resolve(fromParent.splice(index, 1)[0] as ChildMessage<T>);
  return new Promise((resolve) => parentWaiters.push({ type, resolve: resolve as (message: ChildMessage) => void }));
};

/** Sends the result and exits once it is flushed, so that `--cpu-prof` writes its profile on a normal exit. */
export const finish = (payload: unknown): void => {
  process.send?.({ type: 'result', at: Date.now(), payload } satisfies ChildMessage, () => process.exit(0));
};

/** Peak resident set size of this whole process so far (getrusage), in MiB. */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** CPU time a process has used, in seconds, from /proc (Linux); undefined elsewhere or for a gone process. */
export const processCpuSeconds = (pid: number): number | undefined => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};

/**
 * One message through the per-order archive stage as the runner takes it (decode, then handle),
 * without the bus: what B1 and the seed design's loop measure. A rejection here is a bench bug.
 */
export const archiveOne = async (stage: PerOrderArchiveStage, message: InboundMessage): Promise<void> => {
  const decoded = stage.inputs[0]!.codec.decode(message);
  const result = decoded instanceof Promise ? await decoded : decoded;
  if (!result.ok) throw new Error(`The bench's order was rejected: ${result.error.code} ${result.error.message}`);
  await stage.handle(result.value);
};

/** Busy CPU seconds of the whole machine, from /proc/stat (Linux); undefined elsewhere. */
export const machineBusySeconds = (): number | undefined => {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return undefined;
  }
};

/** The machine a bench result was measured on, and how busy it was from `loadAtStart` to now. */
export const machineDescription = (loadAtStart: readonly number[], stackSource: string) => {
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    cores: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    load_avg_start: loadAtStart.map(round2),
    load_avg_end: os.loadavg().map(round2),
    stack: stackSource,
  };
};
