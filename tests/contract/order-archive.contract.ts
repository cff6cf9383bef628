import { ReadableOrderArchivePort } from '../../src/application/ports/order-archive.port';

export interface ArchiveFixture {
  readonly archive: ReadableOrderArchivePort;
  /** A key prefix unique to this run, so suites against a shared bucket do not see each other. */
  readonly prefix: string;
  readonly cleanup?: () => Promise<void>;
}

/**
 * The contract every OrderArchivePort adapter passes: in memory, on the filesystem and on
 * COS/MinIO alike. It pins the semantics the use case relies on for at-least-once delivery:
 * a put is durable once it resolves, and a rewrite of a key replaces the object.
 */
export const describeOrderArchiveContract = (name: string, makeFixture: () => Promise<ArchiveFixture>): void => {
  describe(`${name} honours the OrderArchive contract`, () => {
    let fixture: ArchiveFixture;
    let key: (id: string, dt?: string) => string;

    beforeEach(async () => {
      fixture = await makeFixture();
      key = (id, dt = '2026-11-22') => `${fixture.prefix}/dt=${dt}/orderId=${id}.json`;
    });

    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('stores the exact bytes under the key', async () => {
      const body = Buffer.from('{"id":"o-1001","total":149.99,"note":"é ✓"}');
      await fixture.archive.put(key('o-1001'), body, 'application/json');
      expect((await fixture.archive.get(key('o-1001')))?.equals(body)).toBe(true);
    });

    it('answers undefined for a key that was never written', async () => {
      expect(await fixture.archive.get(key('never-written'))).toBeUndefined();
    });

    it('replaces the object when the same key is written again, never duplicating it', async () => {
      await fixture.archive.put(key('o-1002'), Buffer.from('{"v":1}'), 'application/json');
      await fixture.archive.put(key('o-1002'), Buffer.from('{"v":2}'), 'application/json');
      expect((await fixture.archive.get(key('o-1002')))?.toString()).toBe('{"v":2}');
      expect(await fixture.archive.list(`${fixture.prefix}/`)).toEqual([key('o-1002')]);
    });

    it('lists keys under a prefix in order, across date partitions', async () => {
      await fixture.archive.put(key('o-2', '2026-11-23'), Buffer.from('{}'), 'application/json');
      await fixture.archive.put(key('o-1', '2026-11-22'), Buffer.from('{}'), 'application/json');
      await fixture.archive.put(key('o-3', '2026-11-22'), Buffer.from('{}'), 'application/json');
      expect(await fixture.archive.list(`${fixture.prefix}/`)).toEqual([key('o-1'), key('o-3'), key('o-2', '2026-11-23')]);
      expect(await fixture.archive.list(`${fixture.prefix}/dt=2026-11-23/`)).toEqual([key('o-2', '2026-11-23')]);
    });

    it('keeps every one of many concurrent writes to distinct keys', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `o-c${i}`);
      await Promise.all(ids.map((id) => fixture.archive.put(key(id), Buffer.from(`{"id":"${id}"}`), 'application/json')));
      const listed = await fixture.archive.list(`${fixture.prefix}/`);
      expect(listed).toHaveLength(50);
      expect((await fixture.archive.get(key('o-c49')))?.toString()).toBe('{"id":"o-c49"}');
    });

    it('leaves one object, holding one of the bodies whole, after concurrent writes to one key', async () => {
      const bodies = Array.from({ length: 10 }, (_, i) => `{"attempt":${i}}`);
      await Promise.all(bodies.map((b) => fixture.archive.put(key('o-race'), Buffer.from(b), 'application/json')));
      expect(await fixture.archive.list(`${fixture.prefix}/`)).toEqual([key('o-race')]);
      expect(bodies).toContain((await fixture.archive.get(key('o-race')))?.toString());
    });
  });
};
