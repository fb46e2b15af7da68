// Range formatting (Format Selection) on every example and engine fixture, with LF, CRLF and
// mixed line breaks: whatever lines are selected, the statements, words and comments stay
// exactly as they were (only white space and `;` change), and selecting every line gives what
// Format Document gives.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, LineIndex } from '../server/src/engine';
import { Scanner, Tok } from '../server/src/engine/lexer';
import { DocState } from '../server/src/lsp/documents';
import { getFormattingEdits } from '../server/src/lsp/formatting';
import { EXAMPLES_DIR, FIXTURES_DIR } from './paths';

function stateOf(text: string): DocState {
  return { text, index: new LineIndex(text), analysis: analyze(text) } as unknown as DocState;
}

/** Words, strings, braces and comments (without trailing blanks), in order: what formatting must keep. */
function tokens(text: string): string[] {
  const out: string[] = [];
  const sc = new Scanner(text);
  while (sc.advance()) {
    if (sc.kind === Tok.Newline || sc.kind === Tok.Semi) continue;
    const t = text.slice(sc.start, sc.end);
    out.push(sc.kind === Tok.Comment ? t.trimEnd() : t);
  }
  return out;
}

function format(text: string, range?: { start: number; end: number }): string {
  const edits = getFormattingEdits(
    stateOf(text),
    { tabSize: 2, insertSpaces: true },
    range && { start: { line: range.start, character: 0 }, end: { line: range.end, character: 0 } },
  );
  return TextDocument.applyEdits(TextDocument.create('x:', 'bartopo', 0, text), edits);
}

/** Tab-indented, blank lines around a statement: a line diff matches one blank line with another, and a subset of its edits dropped or repeated `allocate`. */
const TABS_AND_BLANKS = 'guest vm {\n\twindow 0x1000 size 1G\n\n\tallocate page-match\n\n}\n';

describe('lsp: range formatting keeps every statement', function () {
  this.timeout(120000);
  const files = [
    ...fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bartopo')).map((f) => path.join(EXAMPLES_DIR, f)),
    ...fs.readdirSync(path.join(FIXTURES_DIR, 'engine')).filter((f) => f.endsWith('.bartopo')).map((f) => path.join(FIXTURES_DIR, 'engine', f)),
  ];
  const variants = (lf: string): [string, string][] => [
    ['LF', lf],
    ['CRLF', lf.replace(/\n/g, '\r\n')],
    // Every third line break CRLF, every fifth a lone CR: formatting makes them one style, so every line differs.
    ['mixed', lf.replace(/\n/g, (_, i: number) => (i % 3 === 0 ? '\r\n' : i % 5 === 0 ? '\r' : '\n'))],
  ];

  it('a tab-indented block with blank lines, each line selected on its own and all of them', () => {
    const lines = TABS_AND_BLANKS.split('\n').length;
    for (let l = 0; l < lines; l++) assert.deepStrictEqual(tokens(format(TABS_AND_BLANKS, { start: l, end: l + 1 })), tokens(TABS_AND_BLANKS), `line ${l}`);
    assert.strictEqual(format(TABS_AND_BLANKS, { start: 0, end: lines }), format(TABS_AND_BLANKS));
    assert.strictEqual(format(TABS_AND_BLANKS), 'guest vm {\n  window 0x1000 size 1G\n\n  allocate page-match\n}\n');
  });

  it('leaves the lines around the selection alone: blank lines above, trailing blanks, a blank line with spaces', () => {
    const text = 'host h {\n  page-size 64K\n \t \n    arch x\n}\n';
    // Only line 3 selected: its indentation is fixed, the blanks on line 2 stay.
    assert.strictEqual(format(text, { start: 3, end: 4 }), 'host h {\n  page-size 64K\n \t \n  arch x\n}\n');
    const blanks = 'guest g {\n  window 0x1000 size 1G\n\n\n\n      allocate listed   \n        msix emulate\n}\n';
    // Lines 5-6: indentation and trailing blanks there; the three blank lines above are not collapsed.
    assert.strictEqual(format(blanks, { start: 5, end: 7 }), 'guest g {\n  window 0x1000 size 1G\n\n\n\n  allocate listed\n  msix emulate\n}\n');
  });

  it(`examples and engine fixtures: selections of 1 to 4 lines keep the tokens; all lines give Format Document`, () => {
    let checked = 0;
    for (const file of files) {
      const lf = fs.readFileSync(file, 'utf8');
      for (const [kind, text] of variants(lf)) {
        const before = tokens(text);
        const lines = text.split(/\r\n|\r|\n/).length;
        for (let l = 0; l < lines; l += 2) {
          const span = 1 + (l % 4);
          const out = format(text, { start: l, end: l + span });
          const where = `${path.basename(file)} (${kind}), lines ${l}-${l + span}`;
          assert.deepStrictEqual(tokens(out), before, where);
          // Lines outside the selection stay as they were, line breaks included.
          const index = new LineIndex(text);
          const above = text.slice(0, index.offsetAt({ line: l, character: 0 }));
          const below = text.slice(index.offsetAt({ line: l + span - 1, character: Number.MAX_SAFE_INTEGER }));
          assert.ok(out.startsWith(above) && out.endsWith(below) && out.length >= above.length + below.length, `${where}: a line outside the selection changed`);
          checked++;
        }
        assert.strictEqual(format(text, { start: 0, end: lines }), format(text), `${path.basename(file)} (${kind}): all lines`);
      }
    }
    assert.ok(checked > 1000, `${checked} selections`);
  });
});
