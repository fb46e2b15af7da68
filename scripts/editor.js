#!/usr/bin/env node
// `npm run editor`: builds the extension, starts code-server (a real VS Code in
// the browser, offline) on 127.0.0.1 with the freshly built extension installed
// and examples/ open, and prints the URL. Ctrl+C (or SIGTERM/SIGHUP) stops it:
// code-server runs in its own process group and the whole group is killed, so
// no extension host or file watcher is left behind.
//
// Options: --no-build (use dist/ as it is), --port N (default 8080 when free,
// else any free port; also $BARTOPO_EDITOR_PORT), --folder DIR (default examples/).
// First run installs chromium's neighbours, Node 24 and code-server through
// scripts/setup-editor-tests.sh into .vscode-test/ (minutes); later runs reuse them.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

function portIsFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function main() {
  if (!argv.includes('--no-build')) {
    console.log('bartopo editor: building (npm run build) …');
    const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) {
      console.error('bartopo editor: the build failed');
      process.exit(b.status || 1);
    }
  }
  const harness = path.join(root, 'out', 'test', 'editor', 'codeServer.js');
  if (!fs.existsSync(harness)) {
    console.error(`bartopo editor: ${path.relative(root, harness)} is missing: run npm run build`);
    process.exit(1);
  }
  const { ensureTools, startCodeServer, makeRunDir } = require(harness);
  const tools = ensureTools((l) => console.log(l));
  const folder = path.resolve(opt('--folder') || path.join(root, 'examples'));
  let port = Number(opt('--port') || process.env.BARTOPO_EDITOR_PORT || 0);
  if (!port) port = (await portIsFree(8080)) ? 8080 : 0;

  const runDir = makeRunDir('bte-');
  const cs = await startCodeServer({ tools, workspace: folder, runDir, port });
  let stopping = false;
  const stop = async (why, code) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nbartopo editor: ${why}, stopping code-server (process group ${cs.process.pid}) …`);
    await cs.stop();
    fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
    console.log('bartopo editor: stopped');
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void stop(sig, 0));
  cs.process.on('exit', (c) => void stop(`code-server exited (${c})`, c ? 1 : 0));
  // If whoever started us goes away without a signal reaching us (e.g. a shell
  // between npm and node), do not leave code-server running.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop('parent process exited', 0);
  }, 1000).unref();

  const url = `${cs.url}/?folder=${encodeURIComponent(folder).replace(/%2F/g, "/")}`;
  console.log('');
  console.log(`bartopo editor: VS Code (code-server) with ${cs.extensionDir.split(path.sep).pop()} and ${path.relative(process.cwd(), folder) || folder}/`);
  console.log(`  ${url}`);
  console.log(`  log: ${cs.logFile}`);
  console.log('  Ctrl+C stops it.');
}

main().catch((e) => {
  console.error(`bartopo editor: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
