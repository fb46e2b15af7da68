// The extension manifest and what the .vsix would hold: the allow-list in
// .vscodeignore lets in only the bundles, grammar, snippets, language
// configuration and documents — no sources, tests, maps or node_modules.

import * as assert from 'assert';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from './paths';

interface Manifest {
  main: string;
  activationEvents: string[];
  engines: { vscode: string };
  contributes: {
    languages: { id: string; extensions: string[]; configuration: string }[];
    grammars: { language: string; scopeName: string; path: string }[];
    snippets: { language: string; path: string }[];
    commands: { command: string; title: string; category: string }[];
    configuration: { properties: Record<string, { default?: unknown }> };
  };
  scripts: Record<string, string>;
}

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;

describe('lsp: extension manifest and package', function () {
  this.timeout(120000);

  it('wires the language, grammar, snippets, commands and settings', () => {
    assert.strictEqual(pkg.main, './dist/extension.js');
    assert.deepStrictEqual(pkg.activationEvents, ['onLanguage:bartopo']);
    const c = pkg.contributes;
    assert.strictEqual(c.languages[0].id, 'bartopo');
    assert.deepStrictEqual(c.languages[0].extensions, ['.bartopo']);
    for (const file of [c.languages[0].configuration, c.grammars[0].path, c.snippets[0].path]) assert.ok(fs.existsSync(path.join(REPO_ROOT, file)), file);
    const grammar = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, c.grammars[0].path), 'utf8')) as { scopeName: string };
    assert.strictEqual(grammar.scopeName, c.grammars[0].scopeName);
    assert.deepStrictEqual(
      c.commands.map((x) => `${x.category}: ${x.title}`),
      ['bartopo: Restart Server', 'bartopo: Show Output', 'bartopo: Show Page Map', 'bartopo: Import from lspci output…', 'bartopo: Import this machine'],
    );
    const props = c.configuration.properties;
    for (const k of ['bartopo.pageSize', 'bartopo.severity', 'bartopo.msixMappable', 'bartopo.maxDiagnostics', 'bartopo.maxFileSizeMB', 'bartopo.trace.server']) assert.ok(k in props, k);
    assert.strictEqual(props['bartopo.maxDiagnostics'].default, 1000);
    assert.ok(pkg.scripts.package.includes('vsce package'));
  });

  it('packages only the allow-listed files', () => {
    const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    const r = cp.spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: REPO_ROOT, encoding: 'utf8', input: '' });
    assert.strictEqual(r.status, 0, r.stderr);
    const files = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.ok(files.includes('dist/extension.js') && files.includes('dist/server.js'), files.join('\n'));
    assert.ok(files.includes('package.json') && files.includes('syntaxes/bartopo.tmLanguage.json') && files.includes('snippets/bartopo.json') && files.includes('language-configuration.json'));
    for (const f of files) {
      assert.ok(!/\.(ts|map)$/.test(f), `no sources or maps: ${f}`);
      assert.ok(!/^(node_modules|test|out|server|client|scripts|bench|examples)\//.test(f), `nothing else: ${f}`);
    }
  });
});
