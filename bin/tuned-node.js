// Re-runs the CLI under Node with a larger young generation. A whole-file check
// builds a topology's syntax tree and model: many small objects that all stay
// alive; with V8's default 16 MB semi-space the scavenger copies them over and
// over on large files. A 64 MB semi-space removes most of that. (The language
// server does not use this: its work is small incremental analyses, for which
// the default young generation is faster, see bin/bartopo-language-server.js.)
// Returns false when already tuned (or disabled with BARTOPO_NO_TUNE=1), in
// which case the caller runs in this process.
'use strict';
const { spawn, spawnSync } = require('child_process');

const FLAG = '--max-semi-space-size=64';

function alreadyTuned() {
  return process.env.BARTOPO_NO_TUNE === '1' || process.execArgv.some((a) => a.startsWith('--max-semi-space-size'));
}

/** Synchronous re-run for short-lived commands (the CLI); exits with the child's status. */
exports.rerunSync = function rerunSync(script) {
  if (alreadyTuned()) return false;
  const r = spawnSync(process.execPath, [FLAG, script, ...process.argv.slice(2)], { stdio: 'inherit', env: process.env });
  if (r.error) return false; // could not spawn: run in this process instead
  process.exit(r.status === null ? 1 : r.status);
};
