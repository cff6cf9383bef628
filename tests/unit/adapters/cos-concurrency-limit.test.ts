import { limitConcurrency } from '../../../src/adapters/cos/concurrency-limit';

/** A promise the test settles by hand, so it can look at the limit while tasks are in flight. */
const deferred = <T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } => {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('limitConcurrency', () => {
  it('runs at most the limit at once and starts the waiters in arrival order', async () => {
    const limit = limitConcurrency(2);
    const gates = Array.from({ length: 5 }, () => deferred<string>());
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      limit(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);

    gates[1]!.resolve('b');
    await flush();
    expect(started).toEqual([0, 1, 2]);

    gates[0]!.resolve('a');
    gates[2]!.resolve('c');
    await flush();
    expect(started).toEqual([0, 1, 2, 3, 4]);

    gates[3]!.resolve('d');
    gates[4]!.resolve('e');
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('frees the slot of a task that fails', async () => {
    const limit = limitConcurrency(1);
    const failing = deferred<string>();
    const first = limit(() => failing.promise);
    const second = limit(async () => 'ran');
    failing.reject(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('ran');
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p', (max) => {
    expect(() => limitConcurrency(max)).toThrow(RangeError);
  });
});
