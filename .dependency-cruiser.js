/**
 * Architecture rules, checked on every `npm test` (style.md #2, adr/0002).
 * The domain imports nothing outside itself; the application sees only the domain; only the
 * composition root (src/main) may know adapters, inversify and reflect-metadata.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-domain-to-outside',
      comment: 'src/domain is pure: no frameworks, no node: modules, no application or adapter code.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: '^src/domain' },
    },
    {
      name: 'no-application-to-adapters-or-main',
      comment: 'Use cases depend on ports, never on the adapters that implement them.',
      severity: 'error',
      from: { path: '^src/application' },
      to: { path: '^src/(adapters|main)' },
    },
    {
      name: 'no-application-to-packages',
      comment: 'The application layer is framework-free too; node built-ins for Buffer and timers are allowed.',
      severity: 'error',
      from: { path: '^src/application' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-adapters-to-main',
      comment: 'Adapters are wired by the composition root, they do not reach into it.',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/main' },
    },
    {
      name: 'only-main-knows-inversify',
      comment: 'One composition root: inversify and reflect-metadata stay in src/main.',
      severity: 'error',
      from: { path: '^src', pathNot: '^src/main' },
      to: { path: 'node_modules/(inversify|reflect-metadata|@inversifyjs)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist' },
  },
};
