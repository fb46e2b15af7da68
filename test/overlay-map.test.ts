// OverlayMap must behave like a copy of its base map that is then modified,
// while the base stays exactly as it was.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { OverlayMap } from '../server/src/engine/overlayMap';

type Op = { op: 'set'; k: number; v: string | undefined } | { op: 'delete'; k: number } | { op: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  // Values include `undefined`: a stored undefined is not a miss (has says so), in the overlay or in the base.
  fc.record({ op: fc.constant('set' as const), k: fc.nat(12), v: fc.oneof(fc.string({ maxLength: 2 }), fc.constant(undefined)) }),
  fc.record({ op: fc.constant('delete' as const), k: fc.nat(12) }),
  fc.constant({ op: 'clear' as const }),
);

describe('engine: OverlayMap', () => {
  it('reads, writes, deletes, counts and iterates like a modified copy, and leaves its base alone', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(12), fc.oneof(fc.string({ maxLength: 2 }), fc.constant(undefined))), { maxLength: 10 }), fc.array(op, { maxLength: 25 }), (init, ops) => {
        const base = new Map(init);
        const frozen = [...base];
        const copy = new Map(base);
        const over = new OverlayMap(base);
        for (const o of ops) {
          if (o.op === 'set') {
            assert.strictEqual(over.set(o.k, o.v), over);
            copy.set(o.k, o.v);
          } else if (o.op === 'delete') assert.strictEqual(over.delete(o.k), copy.delete(o.k));
          else {
            over.clear();
            copy.clear();
          }
          for (let k = 0; k <= 12; k++) {
            assert.strictEqual(over.has(k), copy.has(k));
            assert.strictEqual(over.get(k), copy.get(k));
          }
          assert.strictEqual(over.size, copy.size);
          const sorted = (xs: [number, string | undefined][]) => [...xs].sort((a, b) => a[0] - b[0]);
          assert.deepStrictEqual(sorted([...over]), sorted([...copy]));
          assert.deepStrictEqual([...over.keys()].sort(), [...copy.keys()].sort());
          assert.deepStrictEqual([...over.values()].sort(), [...copy.values()].sort());
          const seen: [number, string | undefined][] = [];
          over.forEach((v, k) => seen.push([k, v]));
          assert.deepStrictEqual(sorted(seen), sorted([...copy]));
        }
        assert.deepStrictEqual([...base], frozen, 'the base map changed');
      }),
      { numRuns: 300 },
    );
  });
});
