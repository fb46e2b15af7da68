// Mocha reporter: mocha's spec output on the terminal, plus the run's counts
// written as JSON to $BARTOPO_TEST_REPORT for scripts/run-tests.js.
'use strict';
const fs = require('fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const failures = [];
    runner.on('fail', (test, err) => failures.push({ title: test.fullTitle(), message: String(err && err.message) }));
    runner.once('end', () => {
      const out = process.env.BARTOPO_TEST_REPORT;
      if (out) fs.writeFileSync(out, JSON.stringify({ stats: runner.stats, failures }, null, 1));
    });
  }
}
module.exports = SummaryReporter;
