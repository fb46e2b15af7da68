#!/usr/bin/env node
// `npm run test:electron`: the integration suite (test/vscode/, compiled to
// out/test/vscode/) in VS Code's Electron build through @vscode/test-electron,
// for machines that can download VS Code from Microsoft (it caches the build in
// .vscode-test/). Offline, the same suite runs in code-server: npm run test:vscode.
//
// The workspace is a temporary copy of examples/ (the suite edits files).
// Environment: VSCODE_EXECUTABLE (an installed VS Code binary: no download),
// VSCODE_VERSION (default `stable`; e.g. `1.91.0` to test the
// oldest engine package.json accepts), BARTOPO_VSCODE_TEST_GREP (mocha grep).
// On a Linux machine without a display, run it under xvfb-run.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runTests } = require('@vscode/test-electron');

const root = path.resolve(__dirname, '..');

async function main() {
  const suite = path.join(root, 'out', 'test', 'vscode', 'index.js');
  if (!fs.existsSync(suite)) throw new Error(`${path.relative(root, suite)} is missing: run npm run build`);
  if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run npm run build');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bartopo-electron-'));
  const ws = path.join(tmp, 'examples');
  fs.mkdirSync(ws);
  for (const f of fs.readdirSync(path.join(root, 'examples'))) {
    if (f.endsWith('.bartopo')) fs.copyFileSync(path.join(root, 'examples', f), path.join(ws, f));
  }
  const report = path.join(tmp, 'report.json');
  let ok = false;
  try {
    await runTests({
      // A local VS Code instead of a download: VSCODE_EXECUTABLE=/path/to/code.
      ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : { version: process.env.VSCODE_VERSION || 'stable' }),
      extensionDevelopmentPath: root,
      extensionTestsPath: suite,
      extensionTestsEnv: {
        BARTOPO_VSCODE_TEST_REPORT: report,
        ...(process.env.BARTOPO_VSCODE_TEST_GREP ? { BARTOPO_VSCODE_TEST_GREP: process.env.BARTOPO_VSCODE_TEST_GREP } : {}),
      },
      launchArgs: [
        ws,
        '--disable-extensions', // other installed extensions; the one under test still loads
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir', path.join(tmp, 'udd'),
      ],
    });
    ok = true;
  } finally {
    if (fs.existsSync(report)) {
      const r = JSON.parse(fs.readFileSync(report, 'utf8'));
      for (const t of r.tests) console.log(`${t.state === 'passed' ? '✔' : t.state === 'pending' ? '-' : '✖'} ${t.title}${t.error ? `\n    ${t.error.split('\n')[0]}` : ''}`);
      console.log(`tests: ${r.passes} passed, ${r.failures} failed${r.pending ? `, ${r.pending} skipped` : ''}`);
    } else if (ok) {
      ok = false;
      console.error('test:electron: VS Code exited 0 but the suite wrote no report: it did not run');
      process.exitCode = 1;
    }
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().catch((e) => {
  console.error(`test:electron: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
