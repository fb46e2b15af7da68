// Memory while typing (issue 7): the language server keeps one analysis per
// document, and incremental analysis carries the untouched parts of it from
// version to version. Nothing kept may hold on to the text of the version it
// was made in (V8 keeps a slice of 13+ characters as a view into the whole
// string): then every edited statement would pin one old copy of the file,
// and a long session in a large file would grow without bound. Each case runs
// in a child process with --expose-gc and compares the heap after a full GC.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { MemoryReport } from './memory-worker';

const EDITS = 300;

function measure(mode: 'engine' | 'server'): MemoryReport {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'memory-worker.js'), mode, String(EDITS)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as MemoryReport;
}

const MB = 1 << 20;

describe('memory while typing in a large document', function () {
  this.timeout(120_000);
  for (const mode of ['engine', 'server'] as const) {
    it(`${mode}: ${EDITS} edits keep no old version of the text (heap grows by far less than one text per edit)`, () => {
      const m = measure(mode);
      const grown = m.heapAfterEdits - m.heapAfterOpen;
      // Text is one byte per character here; a version pinned per edit would grow the heap by edits × text.
      const pinned = m.edits * m.textBytes;
      assert.ok(pinned > 40 * MB, `the case is too small to tell: ${(pinned / MB).toFixed(1)} MB`);
      assert.ok(grown < pinned / 10, `heap grew by ${(grown / MB).toFixed(1)} MB over ${m.edits} edits of a ${(m.textBytes / MB).toFixed(2)} MB text (${(m.heapAfterOpen / MB).toFixed(1)} → ${(m.heapAfterEdits / MB).toFixed(1)} MB)`);
    });
  }
});
