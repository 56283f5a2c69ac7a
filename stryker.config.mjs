// Mutation testing (npm run test:mutation; slow, not part of CI): mutants of the policy, the TLS identity
// check, the SIP message layer and the engine's routing decisions, each run against the unit tests that cover it
// (node:test files through tsx, read as TAP). Reports: reports/mutation/ (HTML and JSON) and a per-file table on
// stdout. TG_MUTATION=policy|message|engine runs one part (all three when unset).
const parts = {
  policy: {
    mutate: ['src/policy/**/*.ts', 'src/tls/identity.ts'],
    tests: ['test/unit/policy/*.test.ts', 'test/unit/tls/identity.test.ts', 'test/unit/tls/identity-edges.test.ts'],
  },
  message: {
    mutate: ['src/sip/message/**/*.ts'],
    tests: ['test/unit/sip/message/mutation-entry.ts'],
  },
  engine: {
    mutate: [
      'src/engine/core/ingress.ts', 'src/engine/core/forward.ts', 'src/engine/core/request-gate.ts',
      'src/engine/core/addressing.ts', 'src/engine/core/reject.ts', 'src/engine/core/internal-headers.ts',
      'src/engine/edge-guard.ts', 'src/engine/source-trust.ts',
    ],
    tests: ['test/unit/engine/mutation-entry.ts'],
  },
};

const chosen = process.env.TG_MUTATION ? [parts[process.env.TG_MUTATION]] : Object.values(parts);
if (chosen.some((p) => p === undefined)) throw new Error(`TG_MUTATION must be one of ${Object.keys(parts).join(', ')}`);
// Read by tests that shorten their randomised rounds on instrumented code (test/unit/sip/message/parse.test.ts).
process.env.TG_MUTATION_RUN = '1';
const suffix = process.env.TG_MUTATION ? `-${process.env.TG_MUTATION}` : '';

export default {
  testRunner: 'tap',
  tap: {
    testFiles: chosen.flatMap((p) => p.tests),
    nodeArgs: ['--import', 'tsx'],
  },
  mutate: [...chosen.flatMap((p) => p.mutate), '!src/**/index.ts', '!src/**/types.ts', '!src/**/errors.ts'],
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.TG_MUTATION_CONCURRENCY ?? 1),
  timeoutMS: 5000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/index${suffix}.html` },
  jsonReporter: { fileName: `reports/mutation/mutation${suffix}.json` },
  tempDirName: `.stryker-tmp${suffix}`,
  ignorePatterns: ['.stryker-tmp*', 'fuzz/node_modules', 'fuzz/.work', 'fuzz/.build', 'fuzz/findings', 'reports', 'dist', 'pki/*'],
  cleanTempDir: 'always',
};
