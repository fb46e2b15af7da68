// Invalid-input corpus (test/fixtures/invalid/*.bartopo), in the style of taplo's
// test-data/invalid: truncated statements, unclosed blocks, stray `}`, garbage and binary
// bytes, numbers over 2^64, bad units, bad PCI addresses, unterminated strings, keywords in
// the wrong block, deep nesting, empty blocks, CRLF / lone CR line ends, BOMs, …
// For every file, read as UTF-8 the way an editor would hand it to the server:
//   - `analyze` does not throw (neither does `barReports` on its result);
//   - it yields at least one diagnostic (every file is wrong somewhere);
//   - every range (diagnostic and related information) lies within the document:
//     0 <= start <= end <= text.length, in UTF-16 code units.
// The files are data; what exactly is reported is the engine fixtures' business.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze, barReports } from '../server/src/engine';
import type { Span } from '../server/src/engine';
import { FIXTURES_DIR } from './paths';

const INVALID_DIR = path.join(FIXTURES_DIR, 'invalid');

function checkSpan(span: Span, length: number, what: string): void {
  assert.ok(
    Number.isInteger(span.start) && Number.isInteger(span.end) && span.start >= 0 && span.start <= span.end && span.end <= length,
    `${what}: range [${span.start}, ${span.end}) is not within the document (length ${length})`,
  );
}

describe('invalid-input corpus (test/fixtures/invalid)', () => {
  const files = fs
    .readdirSync(INVALID_DIR)
    .filter((f) => f.endsWith('.bartopo'))
    .sort();

  it('has at least 25 files', () => {
    assert.ok(files.length >= 25, `only ${files.length} files`);
  });

  for (const f of files) {
    it(f, () => {
      const text = fs.readFileSync(path.join(INVALID_DIR, f), 'utf8');
      const analysis = analyze(text);
      barReports(analysis);
      const diags = analysis.diagnostics;
      assert.ok(diags.length >= 1, `${f}: no diagnostic`);
      for (const d of diags) {
        const what = `${f}: ${d.rule} "${d.message}"`;
        checkSpan(d.span, text.length, what);
        for (const r of d.related) checkSpan(r.span, text.length, `${what} (related "${r.message}")`);
      }
    });
  }
});
