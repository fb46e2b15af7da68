// sameDiagnostics decides whether a version's diagnostics need to reach the
// client at all: every visible difference must count, data.version must not.

import * as assert from 'assert';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { analyze } from '../server/src/engine/analyze';
import { LineIndex } from '../server/src/engine/lineIndex';
import { sameDiagnostics, toLspDiagnostics } from '../server/src/lsp/convert';
import { NEC } from './lsp-docs';

type Mutation = [string, (ds: Diagnostic[]) => void];

const withRelated = (ds: Diagnostic[]): Diagnostic => ds.find((d) => (d.relatedInformation?.length ?? 0) > 0)!;
const withTarget = (ds: Diagnostic[]): Diagnostic & { data: { target: { bar?: number; device?: string; guest?: string; region?: string } } } =>
  ds.find((d) => (d.data as { target?: unknown }).target !== undefined) as never;

const VISIBLE: Mutation[] = [
  ['a range start column', (ds) => ds[0].range.start.character++],
  ['a range end line', (ds) => ds[0].range.end.line++],
  ['a severity', (ds) => (ds[0].severity = ds[0].severity === 1 ? 2 : 1)],
  ['a code', (ds) => (ds[0].code = 'bar-overlap')],
  ['a message', (ds) => (ds[0].message += ' ')],
  ['a source', (ds) => (ds[0].source = 'other')],
  ['a rule link', (ds) => (ds[0].codeDescription = { href: 'https://example.invalid/' })],
  ['the subject in data', (ds) => ((ds[0].data as { subject?: string }).subject = 'other.bar0')],
  ['the rule in data', (ds) => ((ds[0].data as { rule: string }).rule = 'bar-overlap')],
  ['the target BAR', (ds) => (withTarget(ds).data.target.bar = 5)],
  ['the target guest', (ds) => (withTarget(ds).data.target.guest = 'vm9')],
  ['the target region', (ds) => (withTarget(ds).data.target.region = 'other')],
  ['the target device', (ds) => (withTarget(ds).data.target.device = 'other')],
  ['a related message', (ds) => (withRelated(ds).relatedInformation![0].message += '!')],
  ['a related range', (ds) => withRelated(ds).relatedInformation![0].location.range.start.line++],
  ['a related uri', (ds) => (withRelated(ds).relatedInformation![0].location.uri = 'file:///other.bartopo')],
  ['related information dropped', (ds) => delete withRelated(ds).relatedInformation],
  ['related information added', (ds) => (ds.find((d) => !d.relatedInformation)!.relatedInformation = [])],
  ['one diagnostic more', (ds) => ds.push(structuredClone(ds[0]))],
  ['one diagnostic less', (ds) => ds.pop()],
  ['the order', (ds) => ds.reverse()],
];

describe('lsp: unchanged diagnostics are recognised', () => {
  const text = NEC;
  const base = toLspDiagnostics(new LineIndex(text), 'file:///x.bartopo', 1, analyze(text).diagnostics, 1000).diagnostics;

  it('the example has what the mutations need', () => {
    assert.ok(base.length >= 3 && withRelated(base) && withTarget(base) && base.some((d) => !d.relatedInformation));
  });

  it('a copy, or the same diagnostics of another version, count as the same', () => {
    assert.ok(sameDiagnostics(base, structuredClone(base)));
    const later = toLspDiagnostics(new LineIndex(text), 'file:///x.bartopo', 7, analyze(text).diagnostics, 1000).diagnostics;
    assert.ok(later.every((d) => (d.data as { version: number }).version === 7));
    assert.ok(sameDiagnostics(base, later));
  });

  for (const [what, mutate] of VISIBLE) {
    it(`a change of ${what} counts`, () => {
      const copy = structuredClone(base);
      mutate(copy);
      assert.ok(!sameDiagnostics(base, copy));
      assert.ok(!sameDiagnostics(copy, base));
    });
  }
});
