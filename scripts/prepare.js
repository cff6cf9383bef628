#!/usr/bin/env node
// `npm install` in a clone builds dist/ (the CLI runs from it). TypeScript is a dev dependency,
// so an `npm install --omit=dev` in a clone has no compiler: it then says how to get a working
// CLI instead of failing the whole install. The packed package (`npm pack`) ships dist/ built.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  process.stderr.write(
    'orderflow: TypeScript is not installed (--omit=dev), so dist/ was not built here.\n' +
      '  Build it where the dev dependencies are (npm install && npm run build), or install the packed\n' +
      '  package, which ships dist/: npm pack, then npm install --omit=dev ./orderflow-<version>.tgz\n',
  );
  process.exit(0);
}
execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, '..', 'tsconfig.build.json')], { stdio: 'inherit' });
