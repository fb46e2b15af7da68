// Runs the integration suite (out/test/vscode/index.js) inside code-server's
// extension host, the way @vscode/test-electron runs it in Electron: the
// workbench URL carries a payload with extensionDevelopmentPath (the installed
// unpacked extension) and extensionTestsPath; with code-server's smoke-test
// driver enabled the workbench reports the suite's end through
// window.codeAutomationExit(code), which Playwright exposes before loading.

import * as fs from 'fs';
import * as path from 'path';
import { launchChromium } from './browser';
import { CodeServer, copyExamples, makeRunDir, REPO_ROOT, startCodeServer, Tools } from './codeServer';

export interface SuiteReport {
  passes: number;
  failures: number;
  pending: number;
  tests: { title: string; state: 'passed' | 'failed' | 'pending'; ms?: number; error?: string }[];
}

export interface IntegrationResult {
  exitCode: number | undefined;
  report: SuiteReport | undefined;
  /** The extension host's console (mocha's output) and the workbench log. */
  output: string[];
  ms: number;
  /** Where logs and a last screenshot were copied (only when the run failed). */
  keptIn?: string;
}

export const SUITE_INDEX = path.join(REPO_ROOT, 'out', 'test', 'vscode', 'index.js');

export function payloadUrl(cs: CodeServer, workspace: string, extensionDevelopmentPath: string, extensionTestsPath: string): string {
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
    ['extensionTestsPath', remote(extensionTestsPath)],
  ];
  return `${cs.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export async function runIntegrationSuite(o: { tools: Tools; outDir: string; timeoutMs?: number; grep?: string; log?: (l: string) => void }): Promise<IntegrationResult> {
  const log = o.log ?? (() => undefined);
  if (!fs.existsSync(SUITE_INDEX)) throw new Error(`${SUITE_INDEX} missing: run npm run build`);
  const t0 = Date.now();
  const runDir = makeRunDir('bti-');
  const ws = copyExamples(runDir);
  const reportFile = path.join(runDir, 'report.json');
  const output: string[] = [];
  let cs: CodeServer | undefined;
  let exitCode: number | undefined;
  let failed = true;
  let context: Awaited<ReturnType<typeof launchChromium>>['context'] | undefined;
  try {
    cs = await startCodeServer({
      tools: o.tools,
      workspace: ws,
      runDir,
      testDriver: true,
      env: { BARTOPO_VSCODE_TEST_REPORT: reportFile, ...(o.grep ? { BARTOPO_VSCODE_TEST_GREP: o.grep } : {}) },
      log,
    });
    const browser = await launchChromium(o.tools.chromium, path.join(runDir, 'chromium'));
    context = browser.context;
    const page = browser.page;
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (resolveExit = resolve));
    await page.exposeFunction('codeAutomationLog', (level: string, message: unknown) => {
      output.push(`[workbench ${level}] ${typeof message === 'string' ? message : JSON.stringify(message)}`);
    });
    await page.exposeFunction('codeAutomationExit', (code: number, logs?: { relativePath: string; contents: string }[]) => {
      for (const l of logs ?? []) {
        const f = path.join(runDir, 'vscode-logs', l.relativePath);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, l.contents);
      }
      resolveExit(code);
    });
    page.on('console', (m) => output.push(m.text().replace(/%c/g, '').replace(/\s*color: [^;]*;?/g, '')));
    page.on('pageerror', (e) => output.push(`[page error] ${e.message}`));
    const csExit = new Promise<never>((_, reject) => cs!.process.on('exit', (c) => reject(new Error(`code-server exited (${c}) during the suite`))));
    const pageClosed = new Promise<never>((_, reject) => page.on('close', () => reject(new Error('the workbench page closed before the suite ended'))));
    const timeoutMs = o.timeoutMs ?? 10 * 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the integration suite did not end within ${timeoutMs / 1000} s`)), timeoutMs)));
    log(`running the integration suite in code-server (${cs.url})`);
    await page.goto(payloadUrl(cs, ws, cs.extensionDir, SUITE_INDEX));
    try {
      exitCode = await Promise.race([exited, csExit, pageClosed, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const report = fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as SuiteReport) : undefined;
    failed = exitCode !== 0 || !report || report.failures > 0;
    return { exitCode, report, output, ms: Date.now() - t0, keptIn: failed ? o.outDir : undefined };
  } catch (e) {
    output.push(`[harness] ${e instanceof Error ? e.stack : String(e)}`);
    throw e;
  } finally {
    if (failed) {
      fs.mkdirSync(o.outDir, { recursive: true });
      const page = context?.pages()[0];
      if (page && !page.isClosed()) await page.screenshot({ path: path.join(o.outDir, 'integration-last.png'), timeout: 10_000 }).catch(() => undefined);
      fs.writeFileSync(path.join(o.outDir, 'integration-output.log'), output.join('\n') + '\n');
      if (cs && fs.existsSync(cs.logFile)) fs.copyFileSync(cs.logFile, path.join(o.outDir, 'integration-code-server.log'));
      if (fs.existsSync(reportFile)) fs.copyFileSync(reportFile, path.join(o.outDir, 'integration-report.json'));
      if (fs.existsSync(path.join(runDir, 'vscode-logs'))) fs.cpSync(path.join(runDir, 'vscode-logs'), path.join(o.outDir, 'integration-vscode-logs'), { recursive: true });
    }
    await context?.close().catch(() => undefined);
    await cs?.stop();
    fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  }
}
