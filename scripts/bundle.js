#!/usr/bin/env node
// Bundles the CLI, the language server and the VS Code client with esbuild.
// `--production` minifies. Entries whose source does not exist are skipped.
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const production = process.argv.includes('--production');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;

const entries = [
  { in: 'server/src/cli/main.ts', out: 'dist/cli.js', external: [] },
  { in: 'server/src/server.ts', out: 'dist/server.js', external: [] },
  { in: 'client/src/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
];

async function main() {
  for (const e of entries) {
    if (!fs.existsSync(path.join(root, e.in))) continue;
    await esbuild.build({
      entryPoints: [path.join(root, e.in)],
      outfile: path.join(root, e.out),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: e.external,
      minify: production,
      sourcemap: !production,
      define: { BARTOPO_VERSION: JSON.stringify(version) },
      logLevel: 'warning',
    });
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
