/**
 * node-pg-migrate 9 is an ES module only. Node (>= 20.19) loads it with require(), but jest's
 * module registry cannot evaluate ES modules without --experimental-vm-modules. So under jest
 * (moduleNameMapper in jest.config.js) it is loaded by Node's own loader, outside the registry;
 * production code requires it directly. It only ever receives our pg client (duck-typed), so the
 * second copy of `pg` it pulls in is never used.
 */
const Module = require('node:module');

const parent = { id: __filename, filename: __filename, paths: Module._nodeModulePaths(__dirname) };
module.exports = Module._load('node-pg-migrate', parent, false);
