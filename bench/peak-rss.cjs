// Preloaded (NODE_OPTIONS=--require) into every node process of a benchmark run:
// appends the process's peak resident set size in KiB to $BENCH_RSS_FILE on exit.
const fs = require("fs");
process.on("exit", () => {
  if (process.env.BENCH_RSS_FILE) fs.appendFileSync(process.env.BENCH_RSS_FILE, `${process.resourceUsage().maxRSS}\n`);
});
