#!/usr/bin/env node
// bartopo-language-server: the language server for editors other than VS Code
// (Neovim, Helix, Emacs, …). Starts the bundled server (dist/server.js, built by
// `node scripts/bundle.js`) on the transport given on the command line.
'use strict';
const path = require('path');
const fs = require('fs');

const args = process.argv.slice(2);
const root = path.resolve(__dirname, '..');

if (args.includes('--version') || args.includes('-v')) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  process.stdout.write(`bartopo-language-server ${pkg.version}\n`);
  process.exit(0);
}

if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`Usage: bartopo-language-server [--stdio | --node-ipc | --socket=PORT | --pipe=NAME] [--clientProcessId=PID]

The bartopo language server (LSP 3.17) for .bartopo PCI topology files:
diagnostics, quick fixes, hover, inlay hints, outline, folding, completion,
definition/references/rename, semantic tokens, formatting and code lens.

Transports (default --stdio):
  --stdio              JSON-RPC over standard input and output
  --node-ipc           Node IPC channel (when started by a Node client)
  --socket=PORT        connect to a TCP socket on 127.0.0.1:PORT
  --pipe=NAME          connect to a named pipe / Unix socket

Options:
  --clientProcessId=PID  exit when that process exits
  --version              print the version and exit
  --help                 print this help and exit

Settings (workspace/configuration section "bartopo", or initializationOptions):
  pageSize, severity, msixMappable, maxDiagnostics, debounceMs,
  inlayHints.endAddress, inlayHints.guestAddress, codeLens, maxItemsComputed,
  maxFileSizeMB (docs/editor.md, "Settings")
`);
  process.exit(0);
}

const transports = ['--stdio', '--node-ipc'];
const hasTransport = args.some((a) => transports.includes(a) || a.startsWith('--socket') || a.startsWith('--pipe'));
if (!hasTransport) process.argv.push('--stdio');

const bundle = path.join(root, 'dist', 'server.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`bartopo-language-server: ${bundle} is missing; run \`npm run build\` (or \`node scripts/bundle.js\`) first.\n`);
  process.exit(2);
}
// The server runs in this process with V8's default young generation (unlike the CLI, see
// tuned-node.js): a keystroke's analysis allocates a few MB, and a larger young generation
// hands it pages never touched before, which on some VMs costs more than the analysis itself.
// With --stdio, connectionFromArgs sets the transport up with the server's own JSON encoder.
const server = require(bundle);
server.startServer(server.connectionFromArgs());
