// The topologies the documentation shows are topologies the checker accepts: a reader who copies
// the README's example gets no error (the example's own comments say BARs lie in a window).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { REPO_ROOT } from './paths';

function bartopoBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bartopo\n([\s\S]*?)^```/gm)].map((m) => m[1]);
}

describe('documentation examples', () => {
  for (const doc of ['README.md', 'docs/rules.md', 'docs/editor.md']) {
    const blocks = bartopoBlocks(fs.readFileSync(path.join(REPO_ROOT, doc), 'utf8'));
    blocks.forEach((text, i) => {
      it(`${doc}, bartopo block ${i + 1}: no error`, () => {
        const errors = analyze(text).diagnostics.filter((d) => d.severity === 'error');
        assert.deepStrictEqual(errors.map((d) => `${d.rule}: ${d.message}`), []);
      });
    });
  }

  it('the README shows at least one bartopo block', () => {
    assert.ok(bartopoBlocks(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')).length >= 1);
  });
});
