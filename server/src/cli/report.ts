// Output formats of `bartopo check`: compiler-style text, the spec's JSON
// (section 6) and SARIF 2.1.0 for code scanning.

import { SarifBuilder, SarifResultBuilder, SarifRuleBuilder, SarifRunBuilder } from 'node-sarif-builder';
import { pathToFileURL } from 'url';
import { styleText } from 'util';
import { Analysis, barReports, forEachBarReport } from '../engine/analyze';
import { LineIndex } from '../engine/lineIndex';
import { RULE_DOCS_URL, RULE_SUMMARY } from '../engine/rules';
import { RULES, Severity } from '../engine/types';
import { formatSize, hex } from '../engine/values';

export interface CheckedFile {
  path: string;
  analysis: Analysis;
  lines: LineIndex;
}

export interface Summary {
  errors: number;
  warnings: number;
  infos: number;
}

export function summarize(files: CheckedFile[]): Summary {
  const s: Summary = { errors: 0, warnings: 0, infos: 0 };
  for (const f of files)
    for (const d of f.analysis.diagnostics) {
      if (d.severity === 'error') s.errors++;
      else if (d.severity === 'warning') s.warnings++;
      else s.infos++;
    }
  return s;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

type Style = Parameters<typeof styleText>[0];

export function formatText(files: CheckedFile[], opts: { color: boolean; verdicts: boolean }): string {
  const paint = (style: Style, s: string): string => (opts.color ? styleText(style, s) : s);
  const sevStyle: Record<Severity, Style> = { error: ['bold', 'red'], warning: ['bold', 'yellow'], info: ['bold', 'cyan'] };
  const out: string[] = [];
  for (const f of files) {
    for (const d of f.analysis.diagnostics) {
      const p = f.lines.positionAt(d.span.start);
      out.push(`${paint('bold', `${f.path}:${p.line + 1}:${p.character + 1}:`)} ${paint(sevStyle[d.severity], d.severity)} ${paint('dim', d.rule + ':')} ${d.message}`);
      for (const r of d.related) {
        const rp = f.lines.positionAt(r.span.start);
        out.push(`  ${paint('dim', `${f.path}:${rp.line + 1}:${rp.character + 1}: note:`)} ${r.message}`);
      }
    }
    if (opts.verdicts) out.push(...verdictTable(f, paint));
  }
  const s = summarize(files);
  const line = `${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${plural(s.infos, 'info')} in ${plural(files.length, 'file')}`;
  out.push(s.errors > 0 ? paint(['bold', 'red'], line) : s.warnings > 0 ? paint(['bold', 'yellow'], line) : paint(['bold', 'green'], line));
  return out.join('\n') + '\n';
}

/** VFs of one VF BAR listed one per row in the verdict table; the rest are counted in one row. */
const VFS_SHOWN = 4;

/**
 * A path as SARIF's `artifactLocation.uri` wants it: a URI reference, so each segment is
 * percent-encoded (`a b#c.bartopo` is `a%20b%23c.bartopo`, not a path with a fragment); an
 * absolute path becomes a `file://` URI. Backslashes (Windows) separate segments.
 */
export function sarifUri(path: string): string {
  const p = path.replace(/\\/g, '/');
  const encoded = (segments: string[]): string => segments.map((seg) => encodeURIComponent(seg)).join('/');
  // Windows: a drive path (C:/dir/f) and a UNC path (//server/share/f), whatever the platform this runs on.
  const drive = /^([A-Za-z]):\//.exec(p);
  if (drive) return `file:///${drive[1]}:/${encoded(p.slice(3).split('/'))}`;
  const unc = /^\/\/([^/]+)\/(.*)$/.exec(p);
  if (unc) return `file://${encodeURIComponent(unc[1])}/${encoded(unc[2].split('/'))}`;
  if (p.startsWith('/')) return pathToFileURL(p).href;
  return encoded(p.split('/'));
}

function verdictTable(f: CheckedFile, paint: (style: Style, s: string) => string): string[] {
  const P = f.analysis.topology.host.pageSize;
  const guests = f.analysis.topology.guests.map((g) => g.name);
  const rows: string[][] = [['BAR', 'size', 'host address', 'host', ...guests]];
  // A VF BAR shows its first VFS_SHOWN VFs, then one row that counts the rest by host verdict (VFs are never assigned by name).
  let hidden: { row: string[]; first: string; last: string; n: number; verdicts: Map<string, number> } | undefined;
  const closeHidden = (): void => {
    if (!hidden) return;
    const counts = [...hidden.verdicts].map(([v, n]) => `${n} ${v}`).join(', ');
    hidden.row[0] = `… ${hidden.n} more VFs (${hidden.first} to ${hidden.last}): ${counts}`;
    hidden = undefined;
  };
  forEachBarReport(f.analysis, {}, (b) => {
    if (b.vf !== undefined && b.vf >= VFS_SHOWN) {
      if (!hidden) rows.push((hidden = { row: [''], first: b.id, last: b.id, n: 0, verdicts: new Map() }).row);
      hidden.last = b.id;
      hidden.n++;
      hidden.verdicts.set(b.hostVerdict, (hidden.verdicts.get(b.hostVerdict) ?? 0) + 1);
      return;
    }
    closeHidden();
    rows.push([
      b.id,
      formatSize(b.size),
      b.host !== undefined ? hex(b.host) : 'unassigned',
      b.hostVerdict,
      ...guests.map((g) => {
        const p = b.guests.get(g);
        if (!p) return '-';
        return `${p.verdict}${p.address !== undefined ? ' @' + hex(p.address) : ''}`;
      }),
    ]);
  });
  closeHidden();
  // A count row is one cell wide: it takes no part in the column widths.
  const table = rows.filter((r) => r.length > 1);
  const widths = rows[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const colour = (cell: string): string => {
    if (/^(mmap|direct)/.test(cell)) return paint('green', cell);
    if (/^partial/.test(cell)) return paint('yellow', cell);
    if (/^(no-mmap|trapped)/.test(cell)) return paint('red', cell);
    return cell;
  };
  const lines = [``, paint('bold', `${f.path}: BAR verdicts (host page ${formatSize(P)})`)];
  rows.forEach((r, i) => {
    if (r.length === 1) {
      lines.push('  ' + paint('dim', r[0]));
      return;
    }
    const cells = r.map((c, j) => c.padEnd(widths[j]));
    lines.push('  ' + (i === 0 ? paint('dim', cells.join('  ')) : cells.map(colour).join('  ')).trimEnd());
  });
  lines.push('');
  return lines;
}

/** Indented JSON of `value` at nesting `level`, as `JSON.stringify(…, null, 2)` prints it there. */
function nested(value: unknown, level: number): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, '\n' + '  '.repeat(level));
}

/**
 * The spec's JSON (section 6), written in pieces of about a megabyte: a
 * topology with thousands of VFs lists millions of VF BARs, far more than one
 * string can hold. The bytes are those of `JSON.stringify(report, null, 2)`.
 */
export function writeJson(files: CheckedFile[], write: (s: string) => void): void {
  let buf = '';
  const put = (s: string): void => {
    buf += s;
    if (buf.length >= 1 << 20) {
      write(buf);
      buf = '';
    }
  };
  put('{\n  "version": 1,\n  "files": [');
  files.forEach((f, i) => {
    put(`${i > 0 ? ',' : ''}\n    {\n      "path": ${JSON.stringify(f.path)},\n      "pageSize": ${JSON.stringify(hex(f.analysis.topology.host.pageSize))},\n      "diagnostics": [`);
    // One by one, as the BARs below: a diagnostic's subject is a name, and names have no length limit.
    f.analysis.diagnostics.forEach((d, k) => {
      const diagnostic = {
        rule: d.rule,
        severity: d.severity,
        message: d.message,
        range: { start: f.lines.positionAt(d.span.start), end: f.lines.positionAt(d.span.end) },
        ...(d.subject !== undefined ? { subject: d.subject } : {}),
        ...(d.related.length ? { related: d.related.map((r) => ({ message: r.message, range: { start: f.lines.positionAt(r.span.start), end: f.lines.positionAt(r.span.end) } })) } : {}),
      };
      put(`${k > 0 ? ',' : ''}\n        ${nested(diagnostic, 4)}`);
    });
    put(f.analysis.diagnostics.length > 0 ? '\n      ],\n      "bars": [' : '],\n      "bars": [');
    let n = 0;
    forEachBarReport(f.analysis, {}, (b) => {
      const bar = {
        id: b.id,
        kind: b.kind,
        size: hex(b.size),
        ...(b.host !== undefined ? { host: hex(b.host) } : {}),
        hostVerdict: b.hostVerdict,
        guests: Object.fromEntries([...b.guests].map(([name, p]) => [name, { ...(p.address !== undefined ? { address: hex(p.address) } : {}), verdict: p.verdict }])),
      };
      put(`${n++ > 0 ? ',' : ''}\n        ${nested(bar, 4)}`);
    });
    put(n > 0 ? '\n      ]\n    }' : ']\n    }');
  });
  put(files.length > 0 ? '\n  ],\n' : '],\n');
  put(`  "summary": ${nested(summarize(files), 1)}\n}\n`);
  write(buf);
}

export function formatSarif(files: CheckedFile[], version: string): string {
  const builder = new SarifBuilder();
  const run = new SarifRunBuilder().initSimple({ toolDriverName: 'bartopo', toolDriverVersion: version, url: RULE_DOCS_URL });
  // Columns count UTF-16 code units (as LSP's do): said, so that readers do not assume code points.
  run.run.columnKind = 'utf16CodeUnits';
  for (const id of RULES) {
    run.addRule(new SarifRuleBuilder().initSimple({ ruleId: id, shortDescriptionText: RULE_SUMMARY[id], helpUri: `${RULE_DOCS_URL}#${id}` }));
  }
  for (const f of files) {
    for (const d of f.analysis.diagnostics) {
      const s = f.lines.positionAt(d.span.start);
      const e = f.lines.positionAt(d.span.end);
      const r = new SarifResultBuilder().initSimple({
        level: d.severity === 'info' ? 'note' : d.severity,
        messageText: d.message,
        ruleId: d.rule,
        fileUri: sarifUri(f.path),
        startLine: s.line + 1,
        startColumn: s.character + 1,
        endLine: e.line + 1,
        endColumn: e.character + 1,
      });
      run.addResult(r);
    }
  }
  builder.addRun(run);
  return builder.buildSarifJsonString({ indent: true }) + '\n';
}
