// How long the server waits between two analyses of a document while the user types
// (`delayFor`, server/src/lsp/diagnostics.ts): half the document's usual analysis time, 5 ms
// to 1 s, so that typing in a file of any size leaves the server a third of its time or more
// for other documents' requests.
import * as assert from 'assert';
import type { Connection } from 'vscode-languageserver';
import { Diagnostics } from '../server/src/lsp/diagnostics';
import type { DocumentStore } from '../server/src/lsp/documents';

function withCost(ms: number, debounceMs?: number): Diagnostics {
  const store = { currentSettings: { debounceMs }, costOf: () => ms } as unknown as DocumentStore;
  return new Diagnostics({} as Connection, store, false, false);
}

describe('lsp: scheduling of analyses while typing', () => {
  it('waits half an analysis, at least 5 ms and at most 1 s', () => {
    assert.deepStrictEqual(
      [0, 4, 30, 100, 400, 1100, 2000, 30000].map((ms) => withCost(ms).delayFor('file:///x.bartopo')),
      [5, 5, 15, 50, 200, 550, 1000, 1000],
    );
  });

  it('a 1 s analysis leaves the server at least a third of its time while edits keep coming', () => {
    const d = withCost(1000).delayFor('file:///big.bartopo');
    assert.ok(d / (1000 + d) >= 1 / 3, `${d} ms between analyses of 1,000 ms`);
  });

  it('bartopo.debounceMs set: that delay, whatever the analysis costs', () => {
    assert.strictEqual(withCost(2000, 0).delayFor('file:///x.bartopo'), 0);
    assert.strictEqual(withCost(2000, 30).delayFor('file:///x.bartopo'), 30);
  });
});
