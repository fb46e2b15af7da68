// Entry point of the integration suite that runs inside a real VS Code
// extension host: `extensionTestsPath` for @vscode/test-electron
// (scripts/test-electron.js) and for code-server's smoke-test driver
// (test/editor/). Runs mocha (bdd) on the `*.vscode-test.js` files of this
// folder. They are not named `*.test.js` so that the plain mocha run of
// `npm test` (out/test/**/*.test.js) never loads them outside VS Code.
//
// When BARTOPO_VSCODE_TEST_REPORT names a file, the results are also written
// there as JSON ({ passes, failures, pending, tests: [{ title, state, ms, error }] })
// so that the caller can report each test on its side.

import * as fs from 'fs';
import Mocha from 'mocha';
import * as path from 'path';

export interface SuiteReport {
  passes: number;
  failures: number;
  pending: number;
  tests: { title: string; state: 'passed' | 'failed' | 'pending'; ms?: number; error?: string }[];
}

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: Number(process.env.BARTOPO_VSCODE_TEST_TIMEOUT ?? 60_000),
    grep: process.env.BARTOPO_VSCODE_TEST_GREP || undefined,
  });
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.vscode-test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const reportFile = process.env.BARTOPO_VSCODE_TEST_REPORT;
  const report: SuiteReport = { passes: 0, failures: 0, pending: 0, tests: [] };
  const write = (): void => {
    if (reportFile) fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
  };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} of ${report.passes + report.failures} integration tests failed`));
        else resolve();
      });
      runner.on('pass', (t) => {
        report.passes++;
        report.tests.push({ title: t.fullTitle(), state: 'passed', ms: t.duration });
      });
      runner.on('fail', (t, err: Error) => {
        report.failures++;
        report.tests.push({ title: t.fullTitle(), state: 'failed', ms: t.duration, error: `${err.message}\n${err.stack ?? ''}`.slice(0, 8000) });
        write();
      });
      runner.on('pending', (t) => {
        report.pending++;
        report.tests.push({ title: t.fullTitle(), state: 'pending' });
      });
    } catch (e) {
      report.failures++;
      report.tests.push({ title: 'loading the integration suite', state: 'failed', error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
      write();
      reject(e);
    }
  });
}
