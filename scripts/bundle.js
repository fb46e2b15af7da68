#!/usr/bin/env node
// Bundles the CLI, the language server and the VS Code client with esbuild:
//   dist/cli.js        from server/src/cli/main.ts  (fully bundled)
//   dist/server.js     from server/src/server.ts    (fully bundled; bin/bartopo-language-server.js starts it)
//   dist/extension.js  from client/src/extension.ts (`vscode` left external: VS Code provides it)
// Every build strips white space and simplifies syntax (a smaller bundle loads
// faster: the server's start-up is part of every editor's first diagnostics)
// but keeps names and writes source maps; `--production` minifies fully and
// writes no source maps (and removes stale ones).
// An entry whose source does not exist (yet) is skipped with a note.
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
    if (!fs.existsSync(path.join(root, e.in))) {
      console.log(`bundle: skipping ${e.out} (${e.in} does not exist)`);
      continue;
    }
    const outfile = path.join(root, e.out);
    await esbuild.build({
      entryPoints: [path.join(root, e.in)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: e.external,
      minifyWhitespace: true,
      minifySyntax: true,
      minifyIdentifiers: production,
      sourcemap: !production,
      define: { BARTOPO_VERSION: JSON.stringify(version) },
      logLevel: 'warning',
    });
    if (production) fs.rmSync(outfile + '.map', { force: true });
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
