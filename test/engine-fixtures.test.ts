// The engine's main test: data-driven fixtures in test/fixtures/engine/*.bartopo.
//
// Each fixture is a small, hand-checkable .bartopo file whose expectations were
// worked out by hand from the spec (../shared/spec/bartopo.md) and the kernel/QEMU
// facts (../shared/domain/primer.md), never copied from the engine's output: the
// suite is an independent oracle. Every fixture starts with comments that tell the
// story and say why each expectation holds.
//
// Fixture format. Expectations are comments that start with `#!` (the engine sees
// them as ordinary comments):
//
//   bar 0 mem32 size 4K at 0x21000   #! expect subpage-unaligned warning
//       At the end of a line: exactly one diagnostic with this rule and severity
//       must start on this line. Several may share a line, separated by `;`:
//       `#! expect bar-alignment error; expect address-overflow error`.
//
//   #! expect-next syntax error
//   name "unterminated
//       Alone on a line: the same, for the line directly below (for lines that
//       cannot carry a trailing comment, e.g. an unterminated string). Several
//       `expect-next` lines may be stacked; they all apply to the first line after
//       them that is not itself an `expect-next` line.
//
//   #! verdict ohci1.bar0 host=no-mmap vm0=trapped@0x200080001000 vm1=direct
//       Anywhere: the BAR report (`barReports`) for this id must exist and have this
//       host verdict; for each GUEST=VERDICT, the guest's placement must exist and
//       have this verdict, and, when `@ADDR` is given, this guest address (`@none`:
//       no guest address). `host=` may be left out. Several verdicts may share a
//       line, separated by `;`.
//
//   #! options page-size=64K
//       Optional: analyze with `{ pageSize: 65536n }` (what-if, like `--page-size`).
//
// The runner asserts that the multiset of (line, rule, severity) over ALL the
// diagnostics the engine reports equals the expected one exactly (nothing missing,
// no extras), and checks every verdict. One mocha `it` per fixture file.
// Fixtures that fail because of a suspected engine bug are parked, unchanged, in
// test/fixtures/engine-pending/: not run by default (their header comments say what the
// spec requires). Run them with BARTOPO_PENDING=1 to check an engine fix, then move them
// back to test/fixtures/engine/.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze, barReports, LineIndex, RULES } from '../server/src/engine';
import type { AnalyzeOptions, BarReport } from '../server/src/engine';
import { FIXTURES_DIR } from './paths';

const ENGINE_DIR = path.join(FIXTURES_DIR, 'engine');
const PENDING_DIR = path.join(FIXTURES_DIR, 'engine-pending');

const SEVERITIES = ['error', 'warning', 'info'] as const;
const HOST_VERDICTS = ['mmap', 'no-mmap'] as const;
const GUEST_VERDICTS = ['direct', 'partial', 'trapped'] as const;

interface Expect {
  /** 0-based line. */
  line: number;
  rule: string;
  severity: string;
}

interface GuestExpect {
  guest: string;
  verdict: string;
  /** undefined: not checked; null: no guest address; bigint: this address. */
  address?: bigint | null;
}

interface VerdictExpect {
  line: number;
  id: string;
  host?: string;
  guests: GuestExpect[];
}

interface FixtureSpec {
  expects: Expect[];
  verdicts: VerdictExpect[];
  options: AnalyzeOptions;
}

/** `4K`, `64K`, `16KiB`, `0x10000`, `65536`. Independent of the engine's own parser. */
function parseSizeText(s: string): bigint {
  const m = /^(0x[0-9a-f_]+|[0-9_]+)(K|M|G|KiB|MiB|GiB)?$/i.exec(s);
  if (!m) throw new Error(`bad size \`${s}\``);
  const n = BigInt(m[1].replace(/_/g, ''));
  const unit = (m[2] ?? '').toUpperCase().replace('IB', '');
  const mult = unit === 'K' ? 1n << 10n : unit === 'M' ? 1n << 20n : unit === 'G' ? 1n << 30n : 1n;
  return n * mult;
}

function parseAddress(s: string): bigint {
  if (!/^(0x[0-9a-f_]+|[0-9_]+)$/i.test(s)) throw new Error(`bad address \`${s}\``);
  return BigInt(s.replace(/_/g, ''));
}

/** Reads the `#!` directives of a fixture. Throws on anything malformed (a broken fixture must not pass silently). */
export function parseFixture(text: string): FixtureSpec {
  const lines = text.split(/\r\n|\r|\n/);
  const spec: FixtureSpec = { expects: [], verdicts: [], options: {} };
  let pendingNext: Omit<Expect, 'line'>[] = [];
  let pendingFrom = -1;
  lines.forEach((line, i) => {
    const at = line.indexOf('#!');
    const directive = at >= 0 ? line.slice(at + 2).trim() : '';
    const alone = at >= 0 && line.slice(0, at).trim() === '';
    const clauses = at >= 0 ? directive.split(';').map((c) => c.trim()).filter((c) => c !== '') : [];
    const isNextLine = clauses.length > 0 && clauses.every((c) => c.startsWith('expect-next '));
    if (!isNextLine && pendingNext.length > 0) {
      for (const p of pendingNext) spec.expects.push({ ...p, line: i });
      pendingNext = [];
    }
    if (at < 0) return;
    if (clauses.length === 0) throw new Error(`line ${i + 1}: empty \`#!\` directive`);
    for (const clause of clauses) {
      const words = clause.split(/\s+/);
      const where = `line ${i + 1}: \`${clause}\``;
      switch (words[0]) {
        case 'expect':
        case 'expect-next': {
          if (words.length !== 3) throw new Error(`${where}: expected \`${words[0]} RULE SEVERITY\``);
          const [, rule, severity] = words;
          if (!(RULES as readonly string[]).includes(rule)) throw new Error(`${where}: unknown rule ${rule}`);
          if (!(SEVERITIES as readonly string[]).includes(severity)) throw new Error(`${where}: unknown severity ${severity}`);
          if (words[0] === 'expect') {
            if (alone) throw new Error(`${where}: \`expect\` alone on a line applies to nothing; use \`expect-next\``);
            spec.expects.push({ line: i, rule, severity });
          } else {
            if (!alone) throw new Error(`${where}: \`expect-next\` must be alone on its line`);
            if (pendingNext.length === 0) pendingFrom = i;
            pendingNext.push({ rule, severity });
          }
          break;
        }
        case 'verdict': {
          if (words.length < 3) throw new Error(`${where}: expected \`verdict ID host=… GUEST=…\``);
          const v: VerdictExpect = { line: i, id: words[1], guests: [] };
          for (const w of words.slice(2)) {
            const m = /^([A-Za-z_][A-Za-z0-9_-]*)=([a-z-]+)(?:@(none|[0-9a-fA-Fx_]+))?$/.exec(w);
            if (!m) throw new Error(`${where}: cannot read \`${w}\``);
            const [, key, value, addr] = m;
            if (key === 'host') {
              if (!(HOST_VERDICTS as readonly string[]).includes(value) || addr !== undefined) throw new Error(`${where}: bad host verdict \`${w}\``);
              v.host = value;
            } else {
              if (!(GUEST_VERDICTS as readonly string[]).includes(value)) throw new Error(`${where}: bad guest verdict \`${w}\``);
              v.guests.push({ guest: key, verdict: value, address: addr === undefined ? undefined : addr === 'none' ? null : parseAddress(addr) });
            }
          }
          spec.verdicts.push(v);
          break;
        }
        case 'options': {
          for (const w of words.slice(1)) {
            const m = /^page-size=(.+)$/.exec(w);
            if (!m) throw new Error(`${where}: unknown option \`${w}\``);
            spec.options.pageSize = parseSizeText(m[1]);
          }
          break;
        }
        default:
          throw new Error(`${where}: unknown directive \`${words[0]}\``);
      }
    }
  });
  if (pendingNext.length > 0) throw new Error(`line ${pendingFrom + 1}: \`expect-next\` at the end of the file`);
  return spec;
}

function key(line: number, rule: string, severity: string): string {
  return `line ${String(line + 1).padStart(3)}: ${rule} ${severity}`;
}

function hex(v: bigint | undefined): string {
  return v === undefined ? 'none' : '0x' + v.toString(16);
}

function listFixtures(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bartopo'))
    .sort();
}

export function checkFixture(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  assert.ok(firstLine.startsWith('#') && !firstLine.startsWith('#!'), `${path.basename(file)} must start with comments explaining the scenario`);
  const spec = parseFixture(text);
  const analysis = analyze(text, spec.options);
  const index = new LineIndex(text);

  // Diagnostics: exact multiset of (line, rule, severity).
  const actual = analysis.diagnostics.map((d) => ({ key: key(index.positionAt(d.span.start).line, d.rule, d.severity), d }));
  const expected = spec.expects.map((e) => key(e.line, e.rule, e.severity));
  const remaining = [...expected];
  const extra: string[] = [];
  for (const a of actual) {
    const k = remaining.indexOf(a.key);
    if (k >= 0) remaining.splice(k, 1);
    else extra.push(`${a.key}  (${a.d.subject ?? '-'}: ${a.d.message})`);
  }
  const problems: string[] = [];
  if (remaining.length > 0) problems.push('missing diagnostics:\n    ' + remaining.sort().join('\n    '));
  if (extra.length > 0) problems.push('unexpected diagnostics:\n    ' + extra.sort().join('\n    '));

  // Verdicts.
  const reports = new Map<string, BarReport>();
  for (const r of barReports(analysis)) reports.set(r.id, r);
  for (const v of spec.verdicts) {
    const where = `line ${v.line + 1}: ${v.id}`;
    const r = reports.get(v.id);
    if (!r) {
      problems.push(`${where}: no BAR report (reports: ${[...reports.keys()].join(', ') || 'none'})`);
      continue;
    }
    if (v.host !== undefined && r.hostVerdict !== v.host) problems.push(`${where}: host verdict ${r.hostVerdict}, expected ${v.host} (${r.hostReason})`);
    for (const g of v.guests) {
      const p = r.guests.get(g.guest);
      if (!p) {
        problems.push(`${where}: no placement in guest ${g.guest}`);
        continue;
      }
      if (p.verdict !== g.verdict) problems.push(`${where}: in ${g.guest} ${p.verdict}, expected ${g.verdict} (${p.reasons.join('; ') || 'no reasons'})`);
      if (g.address === null && p.address !== undefined) problems.push(`${where}: in ${g.guest} at ${hex(p.address)}, expected no guest address`);
      if (typeof g.address === 'bigint' && p.address !== g.address) problems.push(`${where}: in ${g.guest} at ${hex(p.address)}, expected ${hex(g.address)}`);
    }
  }
  if (problems.length > 0) assert.fail(`${path.basename(file)}:\n  ${problems.join('\n  ')}`);
}

describe('engine fixtures (test/fixtures/engine)', () => {
  const files = listFixtures(ENGINE_DIR);

  it('has fixtures', () => {
    assert.ok(files.length >= 30, `only ${files.length} fixtures in ${ENGINE_DIR}`);
  });

  for (const f of files) {
    it(f, () => checkFixture(path.join(ENGINE_DIR, f)));
  }

  it('covers every rule id and every verdict value (counting parked fixtures)', () => {
    const rules = new Set<string>();
    const verdicts = new Set<string>();
    for (const [dir, list] of [
      [ENGINE_DIR, files],
      [PENDING_DIR, listFixtures(PENDING_DIR)],
    ] as const) {
      for (const f of list) {
        const spec = parseFixture(fs.readFileSync(path.join(dir, f), 'utf8'));
        for (const e of spec.expects) rules.add(e.rule);
        for (const v of spec.verdicts) {
          if (v.host) verdicts.add(v.host);
          for (const g of v.guests) verdicts.add(g.verdict);
        }
      }
    }
    // file-too-large is the language server's (test/lsp-limits.test.ts): the engine never emits it.
    const missingRules = RULES.filter((r) => r !== 'file-too-large' && !rules.has(r));
    const missingVerdicts = [...HOST_VERDICTS, ...GUEST_VERDICTS].filter((v) => !verdicts.has(v));
    assert.deepStrictEqual({ missingRules, missingVerdicts }, { missingRules: [], missingVerdicts: [] });
  });
});

if (process.env.BARTOPO_PENDING) {
  describe('pending engine fixtures (test/fixtures/engine-pending, BARTOPO_PENDING=1)', () => {
    for (const f of listFixtures(PENDING_DIR)) {
      it(f, () => checkFixture(path.join(PENDING_DIR, f)));
    }
  });
}
