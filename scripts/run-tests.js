#!/usr/bin/env node
// Runs the mocha suites (compiled to out/test) with mocha's spec output on the
// terminal and the counts written on the side (summary-reporter.js), then prints the one summary line CI
// reads: `tests: N passed, N failed`. Extra mocha arguments are passed through.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bartopo-tests-')), 'mocha.json');
const specs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const args = [
  require.resolve('mocha/bin/mocha.js'),
  '--reporter', path.join(__dirname, 'summary-reporter.js'),
  // Generous default: tests spawn processes (CLI, server, code-server) on a loaded 2-core machine.
  ...(flags.some((f) => f.startsWith('--timeout') || f === '-t') ? [] : ['--timeout', '30000']),
  ...flags,
  ...(specs.length ? specs : ['out/test/**/*.test.js']),
];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, BARTOPO_TEST_REPORT: report } });
let passed = 0;
let failed = 0;
let pending = 0;
try {
  const j = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = j.stats.passes;
  failed = j.stats.failures;
  pending = j.stats.pending;
} catch (e) {
  console.error(`could not read the test report ${report}: ${e.message}`);
  failed = Math.max(failed, 1);
}
fs.rmSync(path.dirname(report), { recursive: true, force: true });
if (r.status !== 0 && failed === 0) failed = 1;
console.log(`tests: ${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
