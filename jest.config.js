/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  // Two cores: more workers only fight over CPU and the database.
  maxWorkers: 2,
  globalSetup: '<rootDir>/tests/helpers/global-setup.ts',
  verbose: false,
};
