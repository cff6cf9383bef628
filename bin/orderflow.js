#!/usr/bin/env node
// The CLI runs from the compiled output: `npm install` in a clone builds it (the `prepare`
// script), and the packed package ships it. Called unconditionally: whatever name or symlink
// this file was started through (npx, npm link, a global install), it is the CLI.
let cli;
try {
  cli = require('../dist/main/cli.js');
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('dist/main/cli.js')) throw error;
  process.stderr.write('orderflow: dist/ is not built: run `npm run build` (it needs the dev dependencies), see README.md\n');
  process.exit(1);
}
cli.main(process.argv);
