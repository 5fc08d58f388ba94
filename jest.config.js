/** jest transpiles with sucrase (no type-check here: `npm test` runs `tsc --noEmit` first). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": "@sucrase/jest-plugin" },
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
  // Tests skipped for a missing tool are listed, with what to install, after the summary.
  globalSetup: "<rootDir>/__tests__/reporting/global-setup.js",
  reporters: ["default", "<rootDir>/__tests__/reporting/skip-reporter.js"],
  testTimeout: 60000,
};
