import { LifecyclePort, ReadinessCheck } from './ports/lifecycle.port';
import { LoggerPort } from './ports/logger.port';

/** One adapter with a lifecycle, named for logs and /readyz (e.g. `archive`, `kafka`). */
export interface NamedResource {
  readonly name: string;
  readonly resource: LifecyclePort;
}

/**
 * The adapters of one process that hold connections or need preparing, as one LifecyclePort: a
 * command starts them, asks whether they are ready and closes them without knowing which they are.
 *
 * They are listed in the order they depend on each other (the stores the pipeline writes to
 * before the bus that feeds it): started in that order, one after the other, and closed in the
 * reverse order, so the bus stops delivering before the stores it delivers into go.
 *
 * close() closes every one of them, started or not (an adapter may have opened lazily), and never
 * rejects: one that fails to close is logged and does not keep the others open. Every way out of
 * a command should end with it.
 */
export class Resources implements LifecyclePort {
  private closing: Promise<void> | undefined;

  constructor(
    readonly entries: readonly NamedResource[],
    private readonly logger: LoggerPort,
  ) {
    const names = entries.map((entry) => entry.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) throw new Error(`Resources: the name "${repeated}" is given twice`);
  }

  get names(): readonly string[] {
    return this.entries.map((entry) => entry.name);
  }

  /** In order; the first that fails stops the start with its own (explained) error. */
  async start(): Promise<void> {
    for (const { name, resource } of this.entries) {
      this.logger.debug({ resource: name }, 'Starting');
      await resource.start();
    }
  }

  /** All of them at once; rejects with the first reason. /readyz wants them one by one: see `readiness`. */
  async ready(): Promise<void> {
    await Promise.all(this.entries.map(({ resource }) => resource.ready()));
  }

  /** One readiness check per resource, under its name. */
  get readiness(): readonly ReadinessCheck[] {
    return this.entries.map(({ name, resource }) => ({ name, check: () => resource.ready() }));
  }

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    for (const { name, resource } of [...this.entries].reverse()) {
      try {
        await resource.close();
      } catch (error) {
        this.logger.warn({ resource: name, err: error instanceof Error ? error.message : String(error) }, 'Could not close a resource cleanly');
      }
    }
  }
}
