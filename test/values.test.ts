// Reading numbers: values read from text equal the number written, whatever the
// notation, including the values that share one bigint object (small integers
// and powers of two, see `sharedInt` in values.ts) and the edges of 64 bits.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { detach, flat, readInteger, readSize, shared, sharedInt, ValueError } from '../server/src/engine/values';

const UNITS: [string, bigint][] = [
  ['K', 1n << 10n],
  ['M', 1n << 20n],
  ['G', 1n << 30n],
  ['T', 1n << 40n],
  ['KiB', 1n << 10n],
  ['MiB', 1n << 20n],
];

/** Values below 2^64 that hit the shared ranges and their edges more often than uniform ones would. */
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: 0n, max: 20000n }),
  fc.integer({ min: 0, max: 63 }).chain((k) => fc.constantFrom(1n << BigInt(k), (1n << BigInt(k)) - 1n, (1n << BigInt(k)) + 1n)),
);

function read(text: string, size: boolean): bigint {
  const v = size ? readSize(text, 0, text.length) : readInteger(text, 0, text.length);
  if (v instanceof ValueError) throw new Error(`${text}: ${v.message}`);
  return v;
}

describe('reading numbers', () => {
  it('decimal, hex and `_`-grouped hex read back the value written, shared or not', () => {
    fc.assert(
      fc.property(u64, (v) => {
        const h = v.toString(16);
        const grouped = h.replace(/\B(?=([0-9a-f]{4})+$)/g, '_');
        assert.strictEqual(read(v.toString(), false), v);
        assert.strictEqual(read(`0x${h}`, false), v);
        assert.strictEqual(read(`0x${grouped}`, false), v);
        assert.strictEqual(read(`0X${h.toUpperCase()}`, true), v);
      }),
      { numRuns: 3000 },
    );
  });

  it('sizes with a unit are the number times the unit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 20n }), fc.constantFrom(...UNITS), (n, [u, m]) => {
        assert.strictEqual(read(`${n}${u}`, true), n * m);
      }),
      { numRuns: 2000 },
    );
  });

  it('`sharedInt` and `shared` give the value they are given, at every edge of the shared ranges', () => {
    const edges = [0, 1, 2, 3, 4095, 4096, 16383, 16384, 16385, 65535, 65536, 2 ** 52, 2 ** 53 - 1];
    for (let k = 0; k < 53; k++) edges.push(2 ** k, 2 ** k + 1);
    for (const n of edges) {
      assert.strictEqual(sharedInt(n), BigInt(n), `sharedInt(${n})`);
      assert.strictEqual(sharedInt(n), BigInt(n), `sharedInt(${n}) the second time`);
    }
    for (const v of [0n, 1n, 1n << 53n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n, 1n << 64n, -1n, -(1n << 60n)]) assert.strictEqual(shared(v), v, `shared(${v})`);
    fc.assert(fc.property(u64, (v) => shared(v) === v));
  });

  it('`detach` and `flat` keep every UTF-16 code unit of any string, emoji and lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const whole = `${a}|${b}`;
        const cut = whole.slice(1);
        assert.strictEqual(detach(cut), cut);
        assert.strictEqual(flat(`${a}${b}`), a + b);
      }),
      { numRuns: 2000 },
    );
  });
});
