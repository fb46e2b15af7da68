// The stdio transport's JSON encoder (server/src/lsp/jsonEncoder.ts) must give
// exactly the bytes of JSON.stringify for every message, also when it reuses
// its buffer from one message to the next and when a message outgrows it.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { encodeOnce, jsonPieces, KeptBufferJsonEncoder } from '../server/src/lsp/jsonEncoder';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** JSON-like values plus what JSON.stringify treats specially: undefined, functions, toJSON, class instances, holes. */
const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constant(undefined),
  fc.constant(() => 1),
  fc.constant({ toJSON: () => 'from toJSON' }),
  fc.constant(new Point(1, 2)),
  fc.constant(Object.assign([1, 2], { toJSON: () => 'array toJSON' })),
  fc.constant(new Date(0)),
  fc.double(),
);
const { value: messageLike } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array'), tie('long')),
  object: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  array: fc.array(tie('value'), { maxLength: 5 }),
  // Long enough to be cut into pieces (32 elements and more).
  long: fc.array(fc.oneof(leaf, fc.record({ range: fc.jsonValue({ maxDepth: 2 }), message: fc.string({ unit: 'grapheme' }) })), { minLength: 32, maxLength: 200 }),
}));

function piecesOf(v: unknown): string {
  const out: string[] = [];
  jsonPieces(v, (s) => out.push(s));
  return out.join('');
}

async function encoded(enc: KeptBufferJsonEncoder, v: unknown): Promise<string> {
  return Buffer.from(await enc.encode(v as never, { charset: 'utf-8' })).toString('utf8');
}

describe('stdio JSON encoder', () => {
  it('pieces join to JSON.stringify of any value', () => {
    fc.assert(
      fc.property(messageLike, (v) => {
        const expected = JSON.stringify(v);
        if (expected === undefined) return;
        assert.strictEqual(piecesOf(v), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes message after message into its kept buffer, bytes equal to JSON.stringify', async () => {
    const enc = new KeptBufferJsonEncoder();
    await fc.assert(
      fc.asyncProperty(fc.array(messageLike, { minLength: 1, maxLength: 6 }), async (params) => {
        for (const p of params) {
          const msg = { jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: p };
          const bytes = await enc.encode(msg as never, { charset: 'utf-8' });
          assert.ok(Buffer.from(bytes).equals(Buffer.from(JSON.stringify(msg), 'utf8')));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('grows past its first buffer and keeps earlier results apart from later ones', async () => {
    const enc = new KeptBufferJsonEncoder();
    const big = { jsonrpc: '2.0', id: 1, result: Array.from({ length: 20_000 }, (_, i) => ({ line: i, text: `é😀 ${'x'.repeat(i % 50)}` })) };
    const first = await encoded(enc, big);
    assert.strictEqual(first, JSON.stringify(big));
    const small = { jsonrpc: '2.0', id: 2, result: null };
    assert.strictEqual(await encoded(enc, small), JSON.stringify(small));
    assert.strictEqual(await encoded(enc, big), JSON.stringify(big));
  });

  it('long arrays mixing objects marked encodeOnce with others: bytes equal to JSON.stringify, message after message', async () => {
    const enc = new KeptBufferJsonEncoder();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(messageLike, fc.boolean()), { minLength: 0, maxLength: 150 }), fc.nat({ max: 3 }), async (items, repeats) => {
        const list = items.map(([v, mark]) => (mark && typeof v === 'object' && v !== null ? encodeOnce(v) : v));
        // Sent again (as an unchanged diagnostic is), from the kept JSON.
        for (let r = 0; r <= repeats; r++) {
          const msg = { jsonrpc: '2.0', method: 'x', params: { items: list, again: list.slice(1) } };
          assert.strictEqual(await encoded(enc, msg), JSON.stringify(msg));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('an object marked encodeOnce is turned into JSON once, however often it is sent', async () => {
    const enc = new KeptBufferJsonEncoder();
    let reads = 0;
    const marked = encodeOnce({
      get message(): string {
        reads++;
        return 'the same every time';
      },
    });
    const other = { get message(): string { reads += 100; return 'read each time'; } };
    const list = [marked, ...Array.from({ length: 40 }, (_, i) => ({ i })), other];
    for (let k = 0; k < 5; k++) await encoded(enc, { jsonrpc: '2.0', method: 'x', params: list });
    assert.strictEqual(reads, 1 + 5 * 100);
  });

  it('rejects what JSON.stringify cannot encode, and encodes the next message', async () => {
    const enc = new KeptBufferJsonEncoder();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await assert.rejects(enc.encode({ jsonrpc: '2.0', id: 1, result: cyclic } as never, { charset: 'utf-8' }));
    await assert.rejects(enc.encode({ jsonrpc: '2.0', id: 2, result: [10n] } as never, { charset: 'utf-8' }));
    assert.strictEqual(await encoded(enc, { jsonrpc: '2.0', id: 3, result: 'ok' }), '{"jsonrpc":"2.0","id":3,"result":"ok"}');
  });
});
