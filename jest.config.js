/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Transpile only: `npm test` type-checks once with `tsc --noEmit` (much faster than per-file checks).
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: { isolatedModules: true, allowJs: true, module: 'commonjs', moduleResolution: 'node' } }],
    // jose 6 and @middy 7 ship ESM only; jest runs CommonJS, so they are transpiled too.
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { isolatedModules: true, allowJs: true, module: 'commonjs', moduleResolution: 'node' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|@middy)/)'],
  moduleNameMapper: {
    '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js',
    // The package's own entry points by their published names (tsconfig.json paths).
    '^gatehouse/toolkit$': '<rootDir>/lambdas/toolkit.ts',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
