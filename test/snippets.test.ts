// The snippets expand to text the checker accepts: with their defaults, and with each choice a
// placeholder offers (the others left at their defaults). Fragments (a `bar` line, an `sriov`
// block) are checked inside a device, as a user types them.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { REPO_ROOT } from './paths';

interface Snippet {
  prefix: string;
  body: string[];
}

/** Every expansion of a body: defaults, then each choice of each `${n|a,b|}` with the others at their first. */
function expansions(body: string): string[] {
  const choices = [...body.matchAll(/\$\{(\d+)\|([^|}]*)\|\}/g)].map((m) => ({ n: m[1], options: m[2].split(',') }));
  const expand = (pick: Map<string, string>): string =>
    body
      .replace(/\$\{(\d+)\|([^|}]*)\|\}/g, (_, n: string, opts: string) => pick.get(n) ?? opts.split(',')[0])
      .replace(/\$\{\d+:([^}]*)\}/g, '$1')
      .replace(/\$\d+/g, '')
      .replace(/\t/g, '  ');
  const out = [expand(new Map())];
  for (const c of choices) for (const o of c.options.slice(1)) out.push(expand(new Map([[c.n, o]])));
  return out;
}

describe('snippets', () => {
  const snippets = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'snippets', 'bartopo.json'), 'utf8')) as Record<string, Snippet>;
  for (const [name, s] of Object.entries(snippets)) {
    it(`${name} (${s.prefix}): every expansion checks without an error`, () => {
      for (const text of expansions(s.body.join('\n'))) {
        const top = /^(host|device|guest)\b/.test(text);
        // A guest snippet assigns the device its placeholder names: that device exists in the file it is typed into.
        // A line that names a BAR (msix, region) goes into a device with a 1M bar 0; a BAR or an sriov block into an empty one.
        const names = /^(msix|region)\b/.test(text);
        const inDevice = `device w at 00:1f.0 {\n${names ? '  bar 0 mem64 size 1M at 0xf000_0000\n' : ''}  ${text}\n}\n`;
        const doc = top ? (s.prefix === 'guest' ? `device device at 00:1e.0 {\n  bar 0 mem64 size 64K at 0x2000_8000_0000\n}\n${text}\n` : `${text}\n`) : inDevice;
        const errors = analyze(doc).diagnostics.filter((d) => d.severity === 'error');
        assert.deepStrictEqual(errors.map((d) => `${d.rule}: ${d.message}`), [], doc);
      }
    });
  }
});
