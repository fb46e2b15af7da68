// Re-runs a bin script under Node with a larger young generation. Building a
// topology's syntax tree and model allocates many small objects that all stay
// alive; with V8's default 16 MB semi-space they are copied over and over by
// the scavenger (up to 5x the analysis time on large files). A 64 MB semi-space
// removes most of that. Returns false when already tuned (or disabled with
// BARTOPO_NO_TUNE=1), in which case the caller runs in this process.
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

/** Asynchronous re-run for the long-lived language server; stdio is inherited, signals forwarded. */
exports.rerunAsync = function rerunAsync(script) {
  if (alreadyTuned()) return false;
  const child = spawn(process.execPath, [FLAG, script, ...process.argv.slice(2)], { stdio: 'inherit', env: process.env });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code === null ? (signal ? 1 : 0) : code));
  child.on('error', () => process.exit(2));
  return true;
};
