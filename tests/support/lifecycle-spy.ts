import { LifecyclePort } from '../../src/application/ports/lifecycle.port';

/**
 * Records every lifecycle call, into a log shared with other spies when given one (to check the
 * order across resources), and fails the calls a test asks it to.
 */
export class LifecycleSpy implements LifecyclePort {
  failStart: Error | undefined;
  failReady: Error | undefined;
  failClose: Error | undefined;

  constructor(
    readonly name: string,
    readonly calls: string[] = [],
  ) {}

  async start(): Promise<void> {
    this.calls.push(`start ${this.name}`);
    if (this.failStart !== undefined) throw this.failStart;
  }

  async ready(): Promise<void> {
    this.calls.push(`ready ${this.name}`);
    if (this.failReady !== undefined) throw this.failReady;
  }

  async close(): Promise<void> {
    this.calls.push(`close ${this.name}`);
    if (this.failClose !== undefined) throw this.failClose;
  }
}
