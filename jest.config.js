/**
 * Two projects under one command (`npm test`): unit tests need nothing, integration tests get
 * a real Kafka broker and a real S3 server from the global setup (see tests/integration/setup).
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
// ES-module-only dependencies jest's registry cannot load: see the mapped file.
const moduleNameMapper = {
  '^node-pg-migrate$': '<rootDir>/tests/support/node-pg-migrate-native.js',
  '^(content-disposition|cookie)$': '<rootDir>/tests/support/native-esm/$1.js',
  '^@apidevtools/json-schema-ref-parser$': '<rootDir>/tests/support/native-esm/json-schema-ref-parser.js',
};

/** @type {import('jest').Config} */
module.exports = {
  // One broker and one MinIO on 2 cores, and fault tests that restart them: suites run one at a time.
  maxWorkers: 1,
  // Integration tests wait for real servers; a per-project testTimeout is not applied by jest.
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/tests/support/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      // Only these are crawled: .cache/ and .local-stack*/ hold Go modules and broker data by the hundred thousand files.
      roots: ['<rootDir>/src', '<rootDir>/tests'],
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
    },
    {
      displayName: 'integration',
      roots: ['<rootDir>/src', '<rootDir>/tests'],
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/tests/integration/setup/global-setup.ts',
      globalTeardown: '<rootDir>/tests/integration/setup/global-teardown.ts',
    },
  ],
};
