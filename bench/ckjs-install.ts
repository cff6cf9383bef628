import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `@confluentinc/kafka-javascript`, installed on demand for the bench's Kafka client comparison
 * (issue 12), never by `npm ci`: it is a native addon around librdkafka, and here it has to be
 * built from source, which takes minutes. It goes to a cache outside the clone, so that a fresh
 * clone, CI and `npm ci` never see it and a second bench run finds it built.
 *
 * Why the build is set up as it is (from the package's binding.gyp, deps/librdkafka.gyp and
 * util/configure.js):
 * - its install script is `node-pre-gyp install --fallback-to-build`, which first downloads a
 *   prebuilt binary from GitHub releases; nothing but the package registries is reachable here,
 *   so `npm_config_build_from_source` skips straight to the build.
 * - `CKJS_LINKING=static` (the default) configures the bundled librdkafka with `--install-deps
 *   --source-deps-only`, which downloads the sources of OpenSSL, zlib, zstd, cyrus-sasl and curl:
 *   that fails here. `CKJS_LINKING=dynamic` configures it with no options, so it builds against
 *   the system's libraries where their headers are installed (libssl-dev and zlib1g-dev here; no
 *   libzstd-dev, libsasl2-dev or libcurl-dev, so no zstd, no GSSAPI and no OIDC: the bench needs
 *   none of them; snappy and lz4 are built into librdkafka), and links the addon to its own
 *   librdkafka.so through an rpath ($ORIGIN/../deps), still inside the package.
 * - node-gyp would download Node's headers; the ones installed beside this node are used instead.
 */
export const CKJS_VERSION = '1.10.1';
const PACKAGE = '@confluentinc/kafka-javascript';

export interface CkjsInstall {
  readonly version: string;
  readonly dir: string;
  /** What to `require` for the package. */
  readonly modulePath: string;
  /** When it was built, and how long the install took (the build of librdkafka and the addon). */
  readonly builtAt: string;
  readonly installS: number;
  readonly librdkafkaVersion: string;
  /** Whether this process built it (a run reports the install time only then). */
  readonly installedNow: boolean;
}

type Marker = Omit<CkjsInstall, 'dir' | 'modulePath' | 'installedNow'>;

export const ckjsCacheDir = (version = CKJS_VERSION): string =>
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'orderflow-bench', `ckjs-${version}`);

const markerOf = (dir: string): string => path.join(dir, 'installed.json');
const modulePathOf = (dir: string): string => path.join(dir, 'node_modules', ...PACKAGE.split('/'));

/** The cached install, if a previous call finished it (the marker is written last). */
export const ckjsInstalled = (version = CKJS_VERSION): CkjsInstall | undefined => {
  const dir = ckjsCacheDir(version);
  if (!existsSync(markerOf(dir)) || !existsSync(modulePathOf(dir))) return undefined;
  const marker = JSON.parse(readFileSync(markerOf(dir), 'utf8')) as Marker;
  return { ...marker, dir, modulePath: modulePathOf(dir), installedNow: false };
};

/**
 * Installs the package into its cache unless it is there already (then it returns at once). The
 * npm and compiler output goes to `install.log` in the cache; a failure names that log.
 */
export const installCkjs = async (log: (line: string) => void, version = CKJS_VERSION): Promise<CkjsInstall> => {
  const cached = ckjsInstalled(version);
  if (cached !== undefined) return cached;
  const dir = ckjsCacheDir(version);
  // A half-built tree from an interrupted install would make npm skip the build.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'install.log');
  const nodeDir = path.dirname(path.dirname(process.execPath));
  const headers = existsSync(path.join(nodeDir, 'include', 'node', 'node.h')) ? { npm_config_nodedir: nodeDir } : {};
  log(`installing ${PACKAGE}@${version} into ${dir}, building librdkafka from source (minutes; log: ${logFile})`);
  const started = performance.now();
  // librdkafka's make runs `make -j` without a limit: niced, it leaves the shared cores to others first.
  await run(
    `npm install ${PACKAGE}@${version}`,
    'nice',
    ['-n', '10', 'npm', 'install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--foreground-scripts', `${PACKAGE}@${version}`],
    { ...process.env, CKJS_LINKING: 'dynamic', npm_config_build_from_source: 'true', ...headers },
    logFile,
  );
  // The addon must load (its librdkafka.so found through the rpath) before the install counts.
  const versionFile = path.join(dir, 'librdkafka-version');
  const check = `const k = require(${JSON.stringify(modulePathOf(dir))}); require('node:fs').writeFileSync(${JSON.stringify(versionFile)}, k.librdkafkaVersion); console.log('librdkafka', k.librdkafkaVersion, k.features.join(','))`;
  await run('loading the built addon', process.execPath, ['-e', check], process.env, logFile);
  const marker: Marker = {
    version,
    builtAt: new Date().toISOString(),
    installS: Math.round((performance.now() - started) / 1000),
    librdkafkaVersion: readFileSync(versionFile, 'utf8').trim(),
  };
  writeFileSync(markerOf(dir), `${JSON.stringify(marker, null, 2)}\n`);
  log(`${PACKAGE}@${version} installed in ${marker.installS} s`);
  return { ...marker, dir, modulePath: modulePathOf(dir), installedNow: true };
};

const run = (what: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, logFile: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (error) => out.end(() => reject(new Error(`${what}: could not start ${command} (log: ${logFile}): ${error.message}`))));
    child.on('close', (code, signal) =>
      out.end(() =>
        code === 0
          ? resolve()
          : reject(new Error(`${what} failed with ${signal ?? `exit code ${code}`}; its output is in ${logFile} (last lines: ${tailOf(logFile)})`)),
      ),
    );
  });

const tailOf = (file: string): string => {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return lines.slice(-3).join(' | ').slice(0, 400);
};

/** `node .cache/bench-build/bench/ckjs-install.js`: install (or find) it without running the bench. */
if (require.main === module) {
  installCkjs((line) => process.stderr.write(`[ckjs] ${line}\n`)).then(
    (install) => process.stdout.write(`${JSON.stringify(install)}\n`),
    (error: unknown) => {
      process.stderr.write(`[ckjs] ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
