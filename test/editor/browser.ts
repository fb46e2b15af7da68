// Debian's Chromium driven by playwright-core (no browser download), headless,
// with a fresh profile and the background traffic a closed network refuses
// turned off.

import * as fs from 'fs';
import * as path from 'path';
import { BrowserContext, chromium, Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

export async function launchChromium(executablePath: string, profileDir: string, viewport = { width: 1440, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  fs.mkdirSync(profileDir, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor: 1,
    // The workbench asks for clipboard access on copy/paste.
    permissions: ['clipboard-read', 'clipboard-write'],
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/** Screenshot helper: numbered files in `dir`, the list kept for the caller. */
export class Shots {
  readonly files: string[] = [];
  private n = 0;
  constructor(
    readonly dir: string,
    private readonly page: () => Page | undefined,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  async take(name: string): Promise<string | undefined> {
    const p = this.page();
    if (!p || p.isClosed()) return undefined;
    const file = path.join(this.dir, `${String(++this.n).padStart(2, '0')}-${name}.png`);
    try {
      // Finite CSS animations (the hover's fade-in) are fast-forwarded to their end.
      await p.screenshot({ path: file, timeout: 15_000, animations: 'disabled' });
      this.files.push(file);
      return file;
    } catch {
      return undefined;
    }
  }
}
