// The messages of the rules that build their text when it is read (guest-offset-mismatch,
// guest-page-conflict, msix-page-shared: see `MessageText` in report.ts) say the numbers of
// the layout, worked out by hand in each fixture's header, and stay the same when read late:
// after the analysis of a later version has taken the finding over.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { Diagnostic } from '../server/src/engine/types';
import { FIXTURES_DIR } from './paths';

const read = (name: string): string => fs.readFileSync(path.join(FIXTURES_DIR, 'engine', name), 'utf8');
const one = (ds: Diagnostic[], rule: string, subject: string): Diagnostic => {
  const found = ds.filter((d) => d.rule === rule && d.subject === subject);
  assert.strictEqual(found.length, 1, `one ${rule} for ${subject}`);
  return found[0];
};
const saysAll = (d: Diagnostic, facts: string[]): void => {
  for (const f of facts) assert.ok(d.message.includes(f), `${d.rule} should say "${f}": ${d.message}`);
};

describe('messages built when read', () => {
  it('guest-offset-mismatch and guest-page-conflict name the addresses, offsets and pages of the layout', () => {
    const a = analyze(read('guest-page-conflict.bartopo'));
    // b.bar0: host 0x2000_0002_0000 (offset 0 in its 64K page), guest 0x8000_1000 (offset 0x1000).
    saysAll(one(a.diagnostics, 'guest-offset-mismatch', 'b.bar0'), ['guest vm', 'b.bar0', 'guest 0x80001000', 'offset 0x1000', 'host 0x200000020000', 'offset 0x0', '64K page']);
    // a.bar0: guest page 0x8000_0000 would map host page 0x2000_0001_0000, but b.bar0 is in that guest page too.
    saysAll(one(a.diagnostics, 'guest-page-conflict', 'a.bar0'), ['guest vm', 'guest page 0x80000000', 'host page 0x200000010000', 'b.bar0 at 0x80001000', 'comes from another']);
  });

  it('msix-page-shared names the region, the shared page and the table', () => {
    const a = analyze(read('nic-msix-emulate-64k.bartopo'));
    // Table: 64 entries x 16 bytes = 0x400 bytes at 0x2000 of bar0, in host page 0x2100_0000_0000_0000.
    saysAll(one(a.diagnostics, 'msix-page-shared', 'nic.doorbells'), ['hot region doorbells', 'bar0 0x0-0x1fff', 'host page 0x2100000000000000 (64K)', 'table (bar0 0x2000-0x23ff)', 'guest vm0']);
    saysAll(one(a.diagnostics, 'msix-page-shared', 'nic.config'), ['region config', 'bar0 0x8000-0x8fff']);
  });

  it('are the same when first read after later versions took the finding over', () => {
    for (const name of ['guest-page-conflict.bartopo', 'nic-msix-emulate-64k.bartopo']) {
      let text = read(name);
      let a = analyze(text);
      // Messages of this version are never read; three edits later, the findings are read from the last analysis.
      for (const edit of ['# a comment above everything\n', '\n', '# another\n']) {
        text = edit + text;
        a = analyze(text, {}, a);
      }
      const whole = analyze(text);
      assert.deepStrictEqual(
        a.diagnostics.map((d) => [d.rule, d.span.start, d.message]),
        whole.diagnostics.map((d) => [d.rule, d.span.start, d.message]),
        name,
      );
    }
  });
});
