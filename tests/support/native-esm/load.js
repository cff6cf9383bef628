/**
 * ES-module-only packages that the HTTP API's dependencies require() (content-disposition by
 * @fastify/static under @fastify/swagger-ui, cookie by light-my-request, the ref parser by
 * @apidevtools/swagger-parser): loaded by Node's own loader outside jest's registry, as
 * node-pg-migrate is (see ../node-pg-migrate-native.js). Production code requires them directly.
 */
const Module = require('node:module');
const path = require('node:path');

module.exports = (name) => {
  const parent = { id: __filename, filename: __filename, paths: Module._nodeModulePaths(path.resolve(__dirname, '../../..')) };
  return Module._load(name, parent, false);
};
