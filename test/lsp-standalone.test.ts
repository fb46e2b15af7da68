// The standalone server for other editors: `bartopo-language-server` (the
// package bin) prints its version and help, speaks LSP over stdio by default,
// and exits when its client process dies.

import * as assert from 'assert';
import * as cp from 'child_process';
import * as path from 'path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { REPO_ROOT } from './paths';
import { SERVER_JS } from './lsp-client';

const BIN = path.join(REPO_ROOT, 'bin', 'bartopo-language-server.js');
const pkg = require(path.join(REPO_ROOT, 'package.json')) as { version: string; bin: Record<string, string> };

function exitOf(p: cp.ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (p.exitCode !== null ? resolve(p.exitCode) : p.on('exit', (code) => resolve(code))));
}

describe('lsp: bartopo-language-server', function () {
  this.timeout(30000);

  it('is the package bin', () => {
    assert.strictEqual(pkg.bin['bartopo-language-server'], 'bin/bartopo-language-server.js');
  });

  it('prints its version and help', () => {
    const v = cp.spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    assert.strictEqual(v.status, 0);
    assert.strictEqual(v.stdout.trim(), `bartopo-language-server ${pkg.version}`);
    const h = cp.spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    assert.strictEqual(h.status, 0);
    assert.ok(h.stdout.includes('--stdio') && h.stdout.includes('--clientProcessId'), h.stdout);
  });

  it('speaks LSP over stdio when no transport is given', async () => {
    const p = cp.spawn(process.execPath, [BIN], { stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createMessageConnection(new StreamMessageReader(p.stdout!), new StreamMessageWriter(p.stdin!));
    conn.listen();
    try {
      const init = (await conn.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} })) as { serverInfo: { name: string; version: string } };
      assert.deepStrictEqual(init.serverInfo, { name: 'bartopo-language-server', version: pkg.version });
      await conn.sendNotification('initialized', {});
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
      assert.strictEqual(await exitOf(p), 0);
    } finally {
      conn.dispose();
      if (p.exitCode === null) p.kill();
    }
  });

  it('exits when its client process dies', async () => {
    // A stand-in client process that lives until its stdin closes.
    const parent = cp.spawn(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const server = cp.spawn(process.execPath, [SERVER_JS, '--stdio', `--clientProcessId=${parent.pid}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    conn.listen();
    try {
      await conn.sendRequest('initialize', { processId: parent.pid, rootUri: null, capabilities: {} });
      await conn.sendNotification('initialized', {});
      parent.stdin!.end();
      await exitOf(parent);
      const code = await exitOf(server);
      assert.notStrictEqual(code, null);
    } finally {
      conn.dispose();
      if (server.exitCode === null) server.kill();
    }
  });
});
