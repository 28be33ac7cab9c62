/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // Type checking runs once in `tsc --noEmit`; jest only transpiles, which keeps
  // each synth in the tests fast (see README, "Why transpile-only").
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  setupFilesAfterEnv: ["<rootDir>/jest.setup.ts"],
  // The local-runtime tests read cdktf.out: synthesize it once, before the workers start.
  globalSetup: "<rootDir>/__tests__/support/global-setup.ts",
  testTimeout: 60000,
};
