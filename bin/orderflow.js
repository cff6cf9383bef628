#!/usr/bin/env node
// The CLI runs from the compiled output: `npm install` in a clone builds it (the `prepare`
// script), and the published package ships it. Called unconditionally: whatever name or symlink
// this file was started through (npx, npm link, a global install), it is the CLI.
require('../dist/main/cli.js').main(process.argv);
