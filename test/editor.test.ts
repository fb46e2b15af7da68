// Editor tests, part of `npm test`: the built extension in a real VS Code
// (code-server, offline) driven two ways.
//
// 1. The integration suite (test/vscode/, vscode API) in code-server's
//    extension host; each of its tests is reported here as a mocha test.
// 2. The UI test: Playwright in Debian's Chromium opens an example, sees the
//    squiggles, reads the Problems panel, hovers a BAR, applies a quick fix
//    with Ctrl+. — a screenshot at each step.
//
// What they need (chromium, Node 24, code-server) is installed or reused by
// scripts/setup-editor-tests.sh, which the `before` hook runs: on a fresh
// machine that takes minutes, after that well under a second. Screenshots and
// logs of a failing run stay in test-output/editor/<time>/ (ignored by git);
// a passing run removes its folder. BARTOPO_UPDATE_SCREENSHOTS=1 copies the
// UI test's screenshots to docs/screenshots/ (editor.png is the README's).
// BARTOPO_SKIP_EDITOR_TESTS=1 leaves the editor tests out (reported as pending).

import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import Mocha from 'mocha';
import * as path from 'path';
import { ensureTools, REPO_ROOT, Tools } from './editor/codeServer';
import { IntegrationResult, runIntegrationSuite } from './editor/integration';
import { EditorUi } from './editor/ui';

const OUT_ROOT = path.join(REPO_ROOT, 'test-output', 'editor');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = path.join(OUT_ROOT, stamp);
const UI_EXAMPLE = 'page-match-guest.bartopo';
const skip = process.env.BARTOPO_SKIP_EDITOR_TESTS === '1';
if (skip) console.log('editor tests skipped: BARTOPO_SKIP_EDITOR_TESTS=1');

interface CliDiagnostic {
  rule: string;
  severity: string;
  message: string;
  range: { start: { line: number; character: number } };
}

function cliDiagnostics(file: string): CliDiagnostic[] {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'bartopo.js'), 'check', '-f', 'json', file], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { files: { diagnostics: CliDiagnostic[] }[] }).files[0].diagnostics;
}

function log(line: string): void {
  if (process.env.BARTOPO_EDITOR_VERBOSE === '1') console.log(`      ${line}`);
}

(skip ? describe.skip : describe)('editor: the extension in code-server (real VS Code, offline)', function () {
  let tools: Tools;
  let failed = false;

  before(function () {
    this.timeout(30 * 60_000);
    try {
      tools = ensureTools(log);
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(function () {
    if (!failed) {
      fs.rmSync(OUT, { recursive: true, force: true });
      // Keep only the latest few failing runs.
      if (fs.existsSync(OUT_ROOT)) {
        const old = fs.readdirSync(OUT_ROOT).sort().slice(0, -5);
        for (const d of old) fs.rmSync(path.join(OUT_ROOT, d), { recursive: true, force: true });
      }
    } else {
      console.log(`\n      editor tests failed: screenshots and logs in ${path.relative(process.cwd(), OUT) || OUT}\n`);
    }
  });

  describe('integration suite in the extension host (test/vscode)', function () {
    let result: IntegrationResult | undefined;
    let error: unknown;

    before(async function () {
      this.timeout(12 * 60_000);
      try {
        result = await runIntegrationSuite({ tools, outDir: path.join(OUT, 'integration'), log });
      } catch (e) {
        error = e;
        return;
      }
      // One mocha test here for each test of the suite, with its outcome.
      const suite = this.test!.parent!;
      for (const t of result.report?.tests ?? []) {
        const test = new Mocha.Test(t.title.replace(/^bartopo extension in VS Code /, ''), function (this: Mocha.Context) {
          if (t.state === 'pending') {
            console.log('      (skipped inside VS Code; its reason is printed in the suite output above)');
            this.skip();
          }
          if (t.state === 'failed') {
            const e = new Error(t.error?.split('\n')[0] ?? 'failed');
            e.stack = t.error;
            throw e;
          }
        });
        suite.addTest(test);
      }
    });

    it('runs to the end in code-server and exits 0', function () {
      if (error) throw error;
      const r = result!;
      assert.ok(r.report, `the suite wrote no report (exit code ${r.exitCode}); its output:\n${r.output.slice(-40).join('\n')}`);
      assert.ok(r.report.passes > 0, 'no integration test passed');
      assert.strictEqual(r.exitCode, 0, `${r.report.failures} integration tests failed; output:\n${r.output.slice(-40).join('\n')}`);
    });
  });

  describe('UI: Playwright in Chromium against the workbench', function () {
    this.timeout(90_000);
    let ui: EditorUi;
    const expected = cliDiagnostics(path.join(REPO_ROOT, 'examples', UI_EXAMPLE));
    const warnings = expected.filter((d) => d.severity === 'warning');
    const mismatch = warnings.find((d) => d.rule === 'guest-offset-mismatch');
    let stepFailed = false;

    before(async function () {
      this.timeout(120_000);
      ui = new EditorUi(tools, path.join(OUT, 'ui'), log);
      try {
        await ui.start();
      } catch (e) {
        failed = true;
        stepFailed = true;
        throw e;
      }
    });

    beforeEach(function () {
      // Later steps build on earlier ones: after a failure, skip the rest.
      if (stepFailed) {
        console.log('      (skipped: an earlier UI step failed, and this one builds on it)');
        this.skip();
      }
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed') {
        stepFailed = true;
        await ui.shots.take(`FAILED-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 40)}`);
      }
    });

    after(async function () {
      this.timeout(60_000);
      await ui?.stop(failed);
      if (!failed && process.env.BARTOPO_UPDATE_SCREENSHOTS === '1') {
        const dir = path.join(REPO_ROOT, 'docs', 'screenshots');
        fs.mkdirSync(dir, { recursive: true });
        // The hover (squiggles, Problems panel and page math in one picture) is the README's editor.png.
        for (const f of ui.shots.files) {
          const name = f.endsWith('-hover.png') ? 'editor.png' : path.basename(f).replace(/^\d+-/, '');
          fs.copyFileSync(f, path.join(dir, name));
        }
      }
    });

    it('opens the workbench with the examples folder', async () => {
      await ui.openWorkbench(UI_EXAMPLE);
      await ui.shots.take('workbench');
    });

    it(`opens ${UI_EXAMPLE} with Ctrl+P`, async () => {
      await ui.openFile(UI_EXAMPLE);
      await ui.shots.take('opened');
    });

    it('shows a warning squiggle for each warning', async () => {
      assert.ok(warnings.length > 0);
      // Monaco renders decorations of visible lines only: bring the warnings into view.
      await ui.goTo(warnings[warnings.length - 1].range.start.line + 1, 1);
      await ui.waitForSquiggles('warning', warnings.length);
      await ui.shots.take('squiggles');
    });

    it('lists the warnings in the Problems panel (Ctrl+Shift+M)', async () => {
      const rows = await ui.problems(warnings.map((w) => w.message));
      for (const w of warnings) assert.ok(rows.some((r) => r.includes(w.message.slice(0, 60))), `Problems panel lacks: ${w.message}`);
      await ui.shots.take('problems');
    });

    it('hovering a BAR shows its host page and offset, and the guests\' verdicts', async () => {
      const source = fs.readFileSync(path.join(REPO_ROOT, 'examples', UI_EXAMPLE), 'utf8').split('\n');
      const line = source.findIndex((l) => l.includes('bar 0 mem32 size 4K at 0x3fe0_8002_0000')) + 1;
      assert.ok(line > 0, 'ohci1.bar0 line not found in the example');
      // Centre the view between the BAR and the warnings so that one picture shows both.
      const text = await ui.hover(line, '0x3fe0_8002_0000', 'bar', 'ohci1.bar0', Math.round((line + warnings[0].range.start.line + 1) / 2) + 2);
      assert.match(text, /ohci1\.bar0/);
      assert.match(text, /host page 0x3fe080020000 \(64K\), offset 0x0/);
      assert.match(text, /firmware[\s\S]*trapped/);
      assert.match(text, /vmm[\s\S]*direct/);
      await ui.shots.take('hover');
    });

    it('Ctrl+. offers "Use `allocate page-match`" and applying it clears the warnings', async () => {
      assert.ok(mismatch, 'the example has no guest-offset-mismatch warning');
      const titles = await ui.quickFix(mismatch.range.start.line + 1, mismatch.range.start.character + 2, 'allocate page-match');
      assert.ok(titles.some((t) => /Place ohci1\.bar0/.test(t)), `no "Place" fix offered: ${titles.join(' | ')}`);
      await ui.waitForSquiggles('warning', 0);
      await ui.noProblems();
      await ui.shots.take('fixed');
    });
  });
});
