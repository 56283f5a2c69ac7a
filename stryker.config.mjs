// Mutation testing (npm run test:mutation; slow, not part of CI): mutants of the policy, the TLS identity
// check and the SIP message layer, each run against the unit tests that cover it (node:test files through
// tsx, read as TAP). Reports: reports/mutation/ (HTML and JSON) and a per-file table on stdout.
export default {
  testRunner: 'tap',
  tap: {
    testFiles: [
      'test/unit/policy/*.test.ts',
      'test/unit/tls/identity.test.ts',
      'test/unit/tls/identity-edges.test.ts',
      'test/unit/sip/message/parse.test.ts',
      'test/unit/sip/message/torture.test.ts',
      'test/unit/sip/message/message-layer.test.ts',
    ],
    nodeArgs: ['--import', 'tsx'],
  },
  mutate: ['src/policy/**/*.ts', 'src/tls/identity.ts', 'src/sip/message/**/*.ts', '!src/**/index.ts', '!src/**/types.ts', '!src/**/errors.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 15000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['fuzz/node_modules', 'fuzz/.work', 'fuzz/.build', 'fuzz/findings', 'reports', 'dist', 'pki/*'],
  cleanTempDir: 'always',
};
