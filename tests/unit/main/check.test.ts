import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatChecks, runChecks } from '../../../src/main/commands/check';
import { EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { DEFAULT_LIFECYCLE_CONFIG } from '../../../src/main/lifecycle-config';

/** `orderflow check` on the embedded default: the filesystem archive, proven through its lifecycle. */
describe('orderflow check on the filesystem archive', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'orderflow-check-'));
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('creates the data directory, proves it writable and leaves no probe in it', async () => {
    const dataDir = path.join(root, 'data');
    const results = await runChecks({ ...EMBEDDED_DEFAULTS, dataDir });
    expect(results).toEqual([{ name: 'archive', ok: true, detail: `directory ${dataDir} is writable` }]);
    expect(await readdir(dataDir, { recursive: true })).toEqual(['_orderflow-check']);
    expect(formatChecks(results)).toContain('All checks passed.');
  });

  it('fails, saying why, when the data directory is a file', async () => {
    const dataDir = path.join(root, 'data');
    await writeFile(dataDir, 'not a directory');
    const [archive] = await runChecks({ ...EMBEDDED_DEFAULTS, dataDir });
    expect(archive).toMatchObject({ name: 'archive', ok: false, detail: `the archive directory ${dataDir} is not a directory (a file is in its place)` });
  });

  it('reports a PostgreSQL that does not answer, naming it without its password', async () => {
    const url = 'postgres://orderflow:s3cret-pw@127.0.0.1:1/orderflow';
    const results = await runChecks({ ...EMBEDDED_DEFAULTS, archive: 'memory', lifecycle: { ...DEFAULT_LIFECYCLE_CONFIG, postgres: { url } } });
    const postgres = results.find((r) => r.name === 'postgresql')!;
    expect(postgres.ok).toBe(false);
    expect(postgres.detail).toContain('127.0.0.1:1');
    expect(JSON.stringify(results)).not.toContain('s3cret-pw');
    expect(formatChecks(results)).toContain('DATABASE_URL');
  });

  it('has nothing to prove on the in-memory archive', async () => {
    expect(await runChecks({ ...EMBEDDED_DEFAULTS, archive: 'memory' })).toEqual([
      { name: 'archive', ok: true, detail: 'memory archive (in memory, nothing to check)' },
    ]);
  });
});
