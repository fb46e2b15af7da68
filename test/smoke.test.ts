import * as assert from 'assert';
import { parse } from '../server/src/engine/parser';

describe('smoke', () => {
  it('parses the empty file', () => {
    assert.strictEqual(parse('').errors.length, 0);
  });
});
