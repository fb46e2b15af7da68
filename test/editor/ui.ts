// What a person sees: Playwright drives the code-server workbench in Debian's
// Chromium with the built extension installed. Each step waits on DOM
// selectors (never a fixed time) and takes a screenshot, so a failing run
// leaves the pictures of how far it got.

import * as fs from 'fs';
import * as path from 'path';
import { BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium, Shots } from './browser';
import { CodeServer, copyExamples, makeRunDir, startCodeServer, Tools } from './codeServer';

const STEP_TIMEOUT = 30_000;

export class EditorUi {
  context?: BrowserContext;
  page?: Page;
  cs?: CodeServer;
  readonly shots: Shots;
  readonly runDir = makeRunDir('btu-');
  readonly workspace = copyExamples(this.runDir);
  /** The workbench's console, kept for failing runs. */
  readonly console: string[] = [];

  constructor(
    private readonly tools: Tools,
    readonly outDir: string,
    private readonly log: (l: string) => void = () => undefined,
  ) {
    this.shots = new Shots(outDir, () => this.page);
  }

  private get p(): Page {
    if (!this.page) throw new Error('the workbench is not open');
    return this.page;
  }

  async start(): Promise<void> {
    this.cs = await startCodeServer({ tools: this.tools, workspace: this.workspace, runDir: this.runDir, log: this.log, settings: { 'workbench.colorTheme': 'Default Dark Modern', 'editor.minimap.enabled': false, 'editor.hover.delay': 200, 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'workbench.layoutControl.enabled': false } });
    const b = await launchChromium(this.tools.chromium, path.join(this.runDir, 'chromium'));
    this.context = b.context;
    this.page = b.page;
    this.page.setDefaultTimeout(STEP_TIMEOUT);
    this.page.on('console', (m) => this.console.push(`[${m.type()}] ${m.text()}`));
    this.page.on('pageerror', (e) => this.console.push(`[page error] ${e.message}`));
  }

  /** Opens the workbench on the examples folder and waits for the explorer to list `file`. */
  async openWorkbench(file: string): Promise<void> {
    await this.p.goto(`${this.cs!.url}/?folder=${encodeURIComponent(this.workspace)}`);
    await this.p.locator('.monaco-workbench').waitFor();
    // The dark theme of the user settings is applied once the theme extension has loaded.
    await this.p.locator('.monaco-workbench.vs-dark').waitFor();
    await this.p.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${file}"]`).waitFor();
  }

  /** Quick Open (Ctrl+P), type the name, Enter; waits for its tab and the editor text. */
  async openFile(file: string): Promise<void> {
    const p = this.p;
    await p.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
    await p.keyboard.press('Control+P');
    const input = p.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(file);
    await p.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor();
    await p.keyboard.press('Enter');
    await p.locator(`.tabs-container .tab.active[aria-label^="${file}"]`).waitFor();
    await this.editor().locator('.view-lines').waitFor();
  }

  editor(): Locator {
    return this.p.locator('.editor-instance .monaco-editor').first();
  }

  /** Waits until the editor shows `n` warning squiggles (at least `n` when atLeast). */
  async waitForSquiggles(kind: 'warning' | 'error', n: number, atLeast = false): Promise<number> {
    const sel = `.view-overlays .squiggly-${kind}, .view-overlays .squiggly-inline-${kind}`;
    await this.p.waitForFunction(
      ([s, want, min]) => {
        const doc = (globalThis as unknown as { document: { querySelectorAll(q: string): { length: number } } }).document;
        const count = doc.querySelectorAll(s as string).length;
        return min ? count >= (want as number) : count === want;
      },
      [sel, n, atLeast] as const,
      { timeout: STEP_TIMEOUT },
    );
    return this.p.locator(sel).count();
  }

  /** Opens the Problems panel (Ctrl+Shift+M) and returns the text of its rows once all `messages` are listed. */
  async problems(messages: string[]): Promise<string[]> {
    const p = this.p;
    await p.keyboard.press('Control+Shift+M');
    const rows = p.locator('.markers-panel .monaco-list-row');
    await rows.first().waitFor();
    for (const m of messages) await p.locator('.markers-panel .monaco-list-row', { hasText: m.slice(0, 60) }).first().waitFor();
    return rows.allInnerTexts();
  }

  /** Waits for the Problems panel (already open) to say there is nothing left. */
  async noProblems(): Promise<void> {
    await this.p.locator('.markers-panel .monaco-list-row').first().waitFor({ state: 'hidden' });
    await this.p.locator('.markers-panel-container', { hasText: 'No problems have been detected' }).first().waitFor();
  }

  /** Ctrl+G line:column (1-based). */
  async goTo(line: number, column: number): Promise<void> {
    const p = this.p;
    // Go to Line works from any part of the workbench and focuses the editor.
    await p.keyboard.press('Control+G');
    const input = p.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await p.keyboard.press('Enter');
    await p.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** Reveals `revealLine` (centred) then `lineNumber`, finds the line showing `lineText`, moves the mouse over `word` on it and returns the hover's text once it contains `expect`. */
  async hover(lineNumber: number, lineText: string, word: string, expect: string, revealLine = lineNumber): Promise<string> {
    // Go to Line centres its line; the mouse does not need the cursor there.
    await this.goTo(revealLine, 1);
    const line = this.editor().locator('.view-lines .view-line', { hasText: lineText }).first();
    await line.waitFor();
    // Syntax highlighting puts the keyword in a span of its own: hover its middle.
    const token = line.locator('span > span', { hasText: new RegExp(`^\\s*${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) }).first();
    const box = (await token.count()) > 0 ? await token.boundingBox() : await line.boundingBox();
    if (!box) throw new Error(`line ${lineNumber} ("${lineText}") is not visible`);
    const x = box.x + Math.min(box.width / 2, 12);
    const y = box.y + box.height / 2;
    const hoverBox = this.p.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover .hover-contents').filter({ hasText: expect }).first();
    // Come in from the explorer along the same line, so no other word is hovered on the way.
    await this.p.mouse.move(20, y);
    await this.p.mouse.move(x, y, { steps: 8 });
    await hoverBox.waitFor();
    return hoverBox.innerText();
  }

  /** Ctrl+. at line:column, picks the action titled `title` (prefix) and presses Enter. */
  async quickFix(line: number, column: number, title: string): Promise<string[]> {
    const p = this.p;
    await p.mouse.move(5, 5);
    const rows = p.locator('.action-widget .monaco-list-row');
    // The code actions of a position are asked for when Ctrl+. is pressed; right after Go to
    // Line the editor can still be taking focus, and the key is then lost. Press it again
    // (after making sure the cursor is where it should be) rather than wait forever.
    for (let attempt = 1; ; attempt++) {
      await this.goTo(line, column);
      await p.locator('.editor-instance .monaco-editor.focused').first().waitFor();
      await p.keyboard.press('Control+.');
      try {
        await rows.first().waitFor({ timeout: 8000 });
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
        this.console.push(`[test] no code action menu after Ctrl+. (attempt ${attempt}); pressing it again`);
        await p.keyboard.press('Escape');
      }
    }
    const row = p.locator('.action-widget .monaco-list-row', { hasText: title }).first();
    await row.waitFor();
    const titles = await rows.allInnerTexts();
    await this.shots.take('quick-fix-menu');
    // Walk the keyboard focus to the row, then Enter, as a person would.
    for (let i = 0; i < titles.length + 2; i++) {
      const focused = await p.locator('.action-widget .monaco-list-row.focused').first().innerText().catch(() => '');
      if (focused.includes(title)) break;
      await p.keyboard.press('ArrowDown');
    }
    await p.keyboard.press('Enter');
    await rows.first().waitFor({ state: 'hidden' });
    return titles;
  }

  async stop(keepLogs: boolean): Promise<void> {
    if (keepLogs) {
      fs.mkdirSync(this.outDir, { recursive: true });
      fs.writeFileSync(path.join(this.outDir, 'ui-console.log'), this.console.join('\n') + '\n');
      if (this.cs && fs.existsSync(this.cs.logFile)) fs.copyFileSync(this.cs.logFile, path.join(this.outDir, 'ui-code-server.log'));
    }
    await this.context?.close().catch(() => undefined);
    await this.cs?.stop();
    fs.rmSync(this.runDir, { recursive: true, force: true, maxRetries: 3 });
  }
}
