// The engine's entry point: text in, tree + topology + diagnostics + verdicts out.

import { FileNode } from './ast';
import { analyzeGuests, checkMsixPages, GuestAnalysis, msixPageDiagnostics, msixRedoNames } from './guest';
import { analyzeHost, decideVfHost, HostAnalysis, hostDiagnostics, Resource, VfHostDecision } from './host';
import { Bar, buildTopology, Device, devicesNamed, Topology } from './model';
import { parse, ParseResult, SyntaxError } from './parser';
import { reparse } from './incremental';
import { Reporter } from './report';
import { Tree } from './tree';
import { AnalyzeOptions, BarReport, Diagnostic, GuestPlacement } from './types';
import { endsBelow64 } from './values';

export interface Analysis {
  text: string;
  tree: Tree;
  file: FileNode;
  topology: Topology;
  host: HostAnalysis;
  guests: GuestAnalysis[];
  /** msix-page-shared findings per device. */
  msixPages: Map<Device, Diagnostic[]>;
  diagnostics: Diagnostic[];
  options: AnalyzeOptions;
  /** The parser's errors (also in `diagnostics`, as `syntax`). */
  syntaxErrors: SyntaxError[];
  /** Whether the parse reused the previous version's (incremental re-parse). */
  reparsed: boolean;
}

/**
 * Analyses `text`. With `previous` (the analysis of an earlier version of the
 * same document), only the top-level statements the change touches are parsed
 * again, and only what the changed devices and guests can affect is analysed
 * again (see `analyzeParsed`); `previous` is then consumed (its reused nodes
 * move to the new offsets) and must not be used afterwards.
 */
export function analyze(text: string, options: AnalyzeOptions = {}, previous?: Analysis): Analysis {
  if (previous) {
    try {
      const parsed = reparse({ tree: previous.tree, file: previous.file, errors: previous.syntaxErrors }, previous.text, text);
      if (parsed) return analyzeParsed(text, parsed, options, true, previous, true);
      return analyzeParsed(text, parse(text), options, false, previous, true);
    } catch {
      // The incremental path must not cost the user their diagnostics: whatever went wrong there, analyse
      // the text from scratch (`previous` may be half-consumed by then; nothing below reads it).
    }
  }
  return analyzeParsed(text, parse(text), options);
}

function optionsKey(o: AnalyzeOptions): string {
  const sev = o.severities ?? {};
  const rules = Object.keys(sev).sort() as (keyof typeof sev)[];
  return `${o.pageSize ?? ''}|${o.msixMappableDefault ?? ''}|${rules.map((k) => `${k}=${sev[k]}`).join(',')}`;
}

/**
 * The analysis of an already parsed text. With `previous` (an analysis of an
 * earlier version whose parse shares the unchanged statements' nodes with this
 * one, and made with the same options), device and guest models of unchanged
 * statements are reused, and so are the host decisions and findings of pages
 * no changed device is in, the analyses of guests that assign no affected
 * device, and the MSI-X page findings of devices no changed guest assigns.
 * `previous` is only read, unless `consume` is set: then its host maps are
 * updated in place (cheaper than copying) and it must not be used afterwards.
 * The result equals a whole analysis (tests compare the two after random edits).
 * With `sorted` false the diagnostics are left in the order they were gathered:
 * for fix checks, whose edited copy's offsets are not positions in any text.
 */
export function analyzeParsed(text: string, parsed: ParseResult, options: AnalyzeOptions, reparsed = false, previous?: Analysis, consume = false, sorted = true): Analysis {
  const { tree, file, errors } = parsed;
  const overrides = options.severities ?? {};
  const r = new Reporter(overrides);
  for (const e of errors) r.add('syntax', e.span, e.message);
  const topology = buildTopology(file, r, options, previous?.topology, consume);
  const prev =
    previous &&
    optionsKey(previous.options) === optionsKey(options) &&
    previous.topology.host.pageSize === topology.host.pageSize &&
    previous.topology.host.msixMappable === topology.host.msixMappable
      ? previous
      : undefined;
  const host = analyzeHost(topology, overrides, prev?.host, consume);
  let guests: GuestAnalysis[];
  let msixPages: Map<Device, Diagnostic[]>;
  if (prev && host.change) {
    const change = host.change;
    // Guests see a device they did not edit only through its BARs' host decisions: only those that changed count.
    const affected = new Set<Device>([...change.added, ...change.redecided]);
    guests = analyzeGuests(topology, host, overrides, { guests: prev.guests, affected });
    // MSI-X pages depend on the device and on which guests assign it (by name): redo those whose guests changed.
    const names = msixRedoNames(
      prev.guests.map((ga) => ga.guest),
      guests.map((ga) => ga.guest),
    );
    // … and on the host decisions of the BARs holding the regions: a re-decided device is checked again.
    const redo = new Set<Device>([...change.added, ...change.redecided]);
    for (const d of devicesNamed(topology, names)) redo.add(d);
    msixPages = checkMsixPages(topology, host, guests, overrides, { findings: prev.msixPages, redo, removed: change.removed, consume });
  } else {
    guests = analyzeGuests(topology, host, overrides);
    msixPages = checkMsixPages(topology, host, guests, overrides);
  }
  const all = r.diagnostics;
  for (const x of hostDiagnostics(host)) all.push(x);
  for (const ga of guests) for (const x of ga.diagnostics) all.push(x);
  for (const x of msixPageDiagnostics(msixPages)) all.push(x);
  const diagnostics = sorted ? all.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end) : all;
  return { text, tree, file, topology, host, guests, msixPages, diagnostics, options, syntaxErrors: errors, reparsed };
}

/** One BAR report; a class so that a few hundred thousand of them share one shape and allocate fast. */
class BarReportRecord implements BarReport {
  readonly vf = undefined;
  constructor(
    readonly id: string,
    readonly device: string,
    readonly index: number,
    readonly kind: BarReport['kind'],
    readonly prefetch: boolean,
    readonly size: bigint,
    readonly host: bigint | undefined,
    readonly hostVerdict: BarReport['hostVerdict'],
    readonly hostReason: string,
    readonly guests: Map<string, GuestPlacement>,
    readonly span: BarReport['span'],
  ) {}
}

/** What the reports of every VF of one VF BAR share. */
class VfBarTemplate {
  constructor(
    readonly idHead: string,
    readonly idTail: string,
    readonly device: string,
    readonly index: number,
    readonly kind: BarReport['kind'],
    readonly prefetch: boolean,
    readonly size: bigint,
    /** VF 0's address; VF k is at base + k × size. */
    readonly base: bigint | undefined,
    readonly span: BarReport['span'],
  ) {}
}

/** No guest assigns a VF by name: one shared empty map. */
const NO_GUESTS: Map<string, GuestPlacement> = new Map();

/**
 * One VF BAR's report: its VF number and host decision, the rest read from the template
 * (a device with 256 VFs makes 256 of these, three fields each).
 */
class VfBarReportRecord implements BarReport {
  constructor(
    private readonly t: VfBarTemplate,
    readonly vf: number,
    private readonly decision: VfHostDecision,
  ) {}

  get id(): string {
    return this.t.idHead + this.vf + this.t.idTail;
  }
  get device(): string {
    return this.t.device;
  }
  get index(): number {
    return this.t.index;
  }
  get kind(): BarReport['kind'] {
    return this.t.kind;
  }
  get prefetch(): boolean {
    return this.t.prefetch;
  }
  get size(): bigint {
    return this.t.size;
  }
  get host(): bigint | undefined {
    if (this.t.base === undefined) return undefined;
    const at = this.t.base + BigInt(this.vf) * this.t.size;
    return endsBelow64(at, this.t.size) ? at : undefined; // a VF past 2^64 has no address
  }
  get hostVerdict(): BarReport['hostVerdict'] {
    return this.decision.verdict;
  }
  get hostReason(): string {
    return this.decision.reason;
  }
  get guests(): Map<string, GuestPlacement> {
    return NO_GUESTS;
  }
  get span(): BarReport['span'] {
    return this.t.span;
  }
}

/** Every memory BAR and VF BAR in file order, with host and guest verdicts (the CLI's `bars`). */
export function barReports(a: Analysis, opts: { maxVfs?: number; device?: string } = {}): BarReport[] {
  const out: BarReport[] = [];
  forEachBarReport(a, opts, (b) => out.push(b));
  return out;
}

/**
 * The reports `barReports` lists, handed to `visit` one at a time: 65,535 VFs
 * of a few BARs each are millions of reports, which a writer can stream
 * without holding them all.
 */
export function forEachBarReport(a: Analysis, opts: { maxVfs?: number; device?: string }, visit: (b: BarReport) => void): void {
  const out = { push: visit };
  const P = a.topology.host.pageSize;
  // One device (hover): its BARs only (of every device of that name), without gathering every guest's placements.
  const chosen = opts.device !== undefined ? a.topology.devices.filter((d) => d.name === opts.device) : undefined;
  const devices = chosen ?? a.topology.devices;
  // Each BAR's placements, gathered once from the guests (not one scan of every guest per BAR).
  const byBar = new Map<Bar, Map<string, GuestPlacement>>();
  const place = (ga: Analysis['guests'][number], bar: Bar, p: GuestPlacement): void => {
    let m = byBar.get(bar);
    if (!m) byBar.set(bar, (m = new Map()));
    m.set(ga.guest.name, p);
  };
  for (const ga of a.guests) {
    if (chosen) {
      for (const d of chosen) {
        for (const b of d.bars) {
          const p = ga.placements.get(b);
          if (p) place(ga, b, p);
        }
      }
    } else for (const [bar, p] of ga.placements) place(ga, bar, p);
  }
  const noPlacements: Map<string, GuestPlacement> = new Map();
  // By device model, not by name: a name declared twice (an error) names two devices with apertures of their own.
  const vfApertures = new Map<Device, Map<number, Resource>>();
  for (const res of a.host.resources) {
    if (res.kind !== 'vf' || (chosen && !chosen.includes(res.device))) continue;
    let m = vfApertures.get(res.device);
    if (!m) vfApertures.set(res.device, (m = new Map()));
    m.set(res.vfIndex!, res);
  }
  for (const d of devices) {
    const bars = [...d.bars].sort((x, y) => x.span.start - y.span.start);
    const sr = d.sriov;
    // File order (spec): the device's BARs written before its `sriov` block, the VF BARs, then the BARs after it.
    const before = sr ? bars.filter((b) => b.span.start < sr.span.start) : bars;
    const after = sr && before.length < bars.length ? bars.slice(before.length) : [];
    const ownBars = (list: Bar[]): void => {
      for (const b of list) {
        if (b.kind === 'io') continue;
        const dec = a.host.decisions.get(b)!;
        const guests = byBar.get(b) ?? noPlacements;
        out.push(new BarReportRecord(b.id, d.name, b.index, b.kind, b.prefetch, b.size ?? b.declaredSize, b.host ?? b.node.address?.value, dec.verdict, dec.reason, guests, b.span));
      }
    };
    ownBars(before);
    if (!sr) continue;
    const limit = opts.maxVfs ?? Number.MAX_SAFE_INTEGER;
    const unassignedVf: VfHostDecision = { verdict: 'no-mmap', reason: 'it has no host address' };
    const invalidVf: VfHostDecision = { verdict: 'no-mmap', reason: 'its size is invalid' };
    const overflowVf: VfHostDecision = { verdict: 'no-mmap', reason: 'the VF BAR aperture runs past the end of the 64-bit address space' };
    // VF counts are 16-bit (the SR-IOV TotalVFs field): a plain number loop.
    const vfs = sr.vfs < BigInt(limit) ? Number(sr.vfs) : limit;
    for (const vb of sr.bars) {
      // Listed like a PF BAR: also with an invalid size (its size as written) or an aperture past 2^64 (its address as written).
      const size = vb.size ?? vb.node.size?.value;
      if (vb.kind === 'io' || size === undefined) continue;
      const res = vfApertures.get(d)?.get(vb.index);
      const written = vb.node.address?.value;
      const template = new VfBarTemplate(`${d.name}.vf`, `.bar${vb.index}`, d.name, vb.index, vb.kind, vb.prefetch, size, vb.base ?? written, vb.span);
      const noAperture = vb.size === undefined ? invalidVf : written !== undefined ? overflowVf : unassignedVf;
      let wholePages: VfHostDecision | undefined; // every VF of a page-sized BAR gets the same verdict
      for (let k = 0; k < vfs; k++) {
        const v = !res ? noAperture : size >= P ? (wholePages ??= decideVfHost(res, 0n, P)) : decideVfHost(res, BigInt(k), P);
        out.push(new VfBarReportRecord(template, k, v));
      }
    }
    ownBars(after);
  }
}
