/**
 * Tests that need a real tool (terraform, the Jupyter server, shellcheck) are declared
 * with `describeWithTool`: without the tool they fail under CI=true and are skipped
 * elsewhere, with a message saying what to install.
 */

import * as fs from "fs";

export interface ToolStatus {
  available: boolean;
  /** Why the tool cannot be used, when it cannot. */
  problem?: string;
}

export function isCi(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "false" && ci !== "0";
}

/**
 * `describe` for tests that need `tool`. Without it: under CI the block holds one failing
 * test saying what to install; elsewhere the block is skipped with a warning.
 */
export function describeWithTool(name: string, tool: string, status: ToolStatus, installHint: string, fn: () => void): void {
  if (status.available) {
    describe(name, fn);
    return;
  }
  const message = `${status.problem}: ${installHint}.`;
  if (isCi()) {
    describe(name, () => {
      test(`${tool} is installed`, () => {
        throw new Error(`${message} These tests cannot be skipped under CI=true.`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${message}`);
  recordSkip(`"${name}": ${message}`);
  describe.skip(name, fn);
}

/** Notes the skip for the summary (see __tests__/reporting/skip-reporter.js). */
function recordSkip(line: string): void {
  const file = process.env.NOTEBOOK_TEST_SKIPS;
  if (file) fs.appendFileSync(file, `${line}\n`);
}
