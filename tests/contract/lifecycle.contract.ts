import { LifecyclePort } from '../../src/application/ports/lifecycle.port';

export interface LifecycleFixture {
  readonly resource: LifecyclePort;
  /** Uses the resource as its clients do (a put, a publish, a query): it must serve once started. */
  readonly use: () => Promise<void>;
  readonly cleanup?: () => Promise<void>;
}

/**
 * The contract of every adapter with a lifecycle, in memory and on the real servers alike: what a
 * command or the supervisor relies on when it starts, probes and closes adapters it does not know.
 */
export const describeLifecycleContract = (name: string, makeFixture: () => Promise<LifecycleFixture>): void => {
  describe(`${name} honours the Lifecycle contract`, () => {
    let fixture: LifecycleFixture;

    beforeEach(async () => {
      fixture = await makeFixture();
    });

    afterEach(async () => {
      await fixture.resource.close();
      await fixture.cleanup?.();
    });

    it('starts more than once, also concurrently, and is then ready and serves', async () => {
      await Promise.all([fixture.resource.start(), fixture.resource.start()]);
      await fixture.resource.start();
      await expect(fixture.resource.ready()).resolves.toBeUndefined();
      await fixture.use();
    });

    it('closes more than once, also concurrently, and also when it was never started', async () => {
      await Promise.all([fixture.resource.close(), fixture.resource.close()]);
      await expect(fixture.resource.close()).resolves.toBeUndefined();
    });

    it('closes after it served', async () => {
      await fixture.resource.start();
      await fixture.use();
      await expect(fixture.resource.close()).resolves.toBeUndefined();
    });

    it('is not ready once closed, and says so', async () => {
      await fixture.resource.start();
      await fixture.resource.close();
      await expect(fixture.resource.ready()).rejects.toThrow(/\S/);
    });
  });
};
