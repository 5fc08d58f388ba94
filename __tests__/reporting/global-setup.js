/**
 * jest globalSetup: a file where test files record why they skipped tests (a missing tool);
 * the skip reporter prints it under the summary. Workers inherit this process's environment.
 */
const fs = require("fs");
const os = require("os");
const path = require("path");

module.exports = async () => {
  const file = path.join(os.tmpdir(), `notebook-test-skips-${process.pid}-${Date.now()}.txt`);
  fs.writeFileSync(file, "");
  process.env.NOTEBOOK_TEST_SKIPS = file;
};
