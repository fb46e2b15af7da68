// Completion: statement keywords per block, then word by word what the
// statement expects next — BAR kinds, sizes (4K, 64K …), policies, MSI-X
// modes, device names after `assign`, BAR indexes in `assign`/`msix`/`region`.
// Each statement is described by a pattern of slots; the words already typed
// are matched against it and the next slot decides the candidates.

import { CompletionItem, CompletionItemKind, CompletionParams, CompletionTriggerKind, Range } from 'vscode-languageserver';
import { formatSize, hex } from '../engine';
import { DeviceNode } from '../engine/ast';
import { Stmt } from '../engine/tree';
import { DocState } from './documents';
import { enclosingBlock } from './nav';

type Slot =
  /** A keyword; an optional one starts a group of itself and the `group` slots after it, all present or all absent. */
  | { kw: string; optional?: boolean; group?: number }
  | { value: 'name' | 'int' | 'addr' | 'pci' | 'string' | 'id' | 'pagesize' | 'arch' | 'yesno' | 'kind' | 'barsize' | 'winsize' | 'romsize' | 'policy' | 'msixmode' | 'device' | 'freeidx' | 'vfidx' | 'barref' | 'assignidx' };

const kw = (k: string): Slot => ({ kw: k });
const opt = (k: string, group = 0): Slot => ({ kw: k, optional: true, group });
const v = (value: Extract<Slot, { value: string }>['value']): Slot => ({ value });

type Context = 'top' | 'host' | 'device' | 'sriov' | 'guest' | 'assign' | 'unknown';

const PATTERNS: Record<Context, Record<string, Slot[]>> = {
  top: {
    host: [kw('host'), v('name')],
    device: [kw('device'), v('name'), kw('at'), v('pci')],
    guest: [kw('guest'), v('name')],
  },
  host: {
    'page-size': [kw('page-size'), v('pagesize')],
    arch: [kw('arch'), v('arch')],
    'msix-mappable': [kw('msix-mappable'), v('yesno')],
    window: [kw('window'), v('name'), v('addr'), kw('size'), v('winsize'), opt('prefetch')],
  },
  device: {
    group: [kw('group'), v('int')],
    name: [kw('name'), v('string')],
    id: [kw('id'), v('id')],
    bar: [kw('bar'), v('freeidx'), v('kind'), opt('prefetch'), kw('size'), v('barsize'), opt('at', 1), v('addr')],
    msix: [kw('msix'), kw('entries'), v('int'), kw('table'), kw('bar'), v('barref'), kw('offset'), v('addr'), opt('pba', 4), kw('bar'), v('barref'), kw('offset'), v('addr')],
    region: [kw('region'), v('name'), kw('bar'), v('barref'), kw('offset'), v('addr'), kw('size'), v('barsize'), opt('hot')],
    rom: [kw('rom'), kw('size'), v('romsize'), opt('at', 1), v('addr')],
    sriov: [kw('sriov'), kw('vfs'), v('int')],
  },
  sriov: {
    bar: [kw('bar'), v('vfidx'), v('kind'), opt('prefetch'), kw('size'), v('barsize'), opt('at', 1), v('addr')],
  },
  guest: {
    window: [kw('window'), v('addr'), kw('size'), v('winsize')],
    allocate: [kw('allocate'), v('policy')],
    msix: [kw('msix'), v('msixmode')],
    assign: [kw('assign'), v('device')],
  },
  assign: {
    bar: [kw('bar'), v('assignidx'), opt('at', 1), v('addr')],
  },
  unknown: {},
};

const STATEMENT_DOCS: Record<string, string> = {
  host: 'host [NAME] { … } — page size, architecture and MMIO windows (at most one)',
  device: 'device NAME at [dddd:]bb:dd.f { … } — one PCI function',
  guest: 'guest NAME { … } — one virtual machine',
  'page-size': 'page-size SIZE — host page size (4K, 16K or 64K)',
  arch: 'arch NAME — informational',
  'msix-mappable': 'msix-mappable yes|no — whether user space may mmap the MSI-X table page (Linux ≥ 4.16: yes)',
  window: 'window … size SIZE — an address window',
  group: 'group INT — IOMMU group',
  name: 'name "…" — description',
  id: 'id VVVV:DDDD — vendor:device id',
  bar: 'bar INDEX mem32|mem64|io [prefetch] size SIZE [at ADDR]',
  msix: 'msix … — MSI-X capability (device) or how the VMM handles MSI-X tables (guest)',
  region: 'region NAME bar B offset OFF size SIZE [hot] — registers inside a BAR',
  rom: 'rom size SIZE [at ADDR] — expansion ROM',
  sriov: 'sriov vfs N { bar … } — SR-IOV VF BARs',
  allocate: 'allocate listed|size-descending|page-match — guest BAR allocation policy',
  assign: 'assign DEVICE [{ bar INDEX [at ADDR] … }] — pass a device through',
};

const VALUE_DOCS: Record<string, string> = {
  mem32: '32-bit memory BAR (must end below 4 GiB)',
  mem64: '64-bit memory BAR (also occupies the next slot)',
  io: 'I/O port BAR (never mmapped, never placed in guest memory)',
  listed: 'each BAR at the lowest aligned free address after the previous one, in placement order',
  'size-descending': 'as listed, largest BARs first (SLOF, SeaBIOS, EDK2)',
  'page-match': 'sub-page BARs keep their host offset in a guest page of their own',
  emulate: 'the VMM traps the MSI-X table (QEMU default on x86 and arm)',
  paravirt: 'the guest programs vectors through hypercalls (QEMU pseries, vfio-no-msix-emulation)',
  relocate: 'the emulated table moves to a BAR of its own (QEMU x-msix-relocation)',
  yes: 'the kernel advertises VFIO_REGION_INFO_CAP_MSIX_MAPPABLE (Linux ≥ 4.16)',
  no: 'older kernels: the table page is left out of the sparse mmap',
  prefetch: 'prefetchable',
  hot: 'on the fast path (e.g. doorbells): trapping it costs',
};

function statementWords(line: string): { words: string[]; partial: string } | undefined {
  // Strip strings, find comments and the start of the current statement.
  let start = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '#') return undefined; // in a comment
    else if (c === '{' || c === '}' || c === ';') start = i + 1;
  }
  if (inString) return undefined;
  const text = line.slice(start);
  // The word being typed: scanned back from the end (an unanchored `/[^\s"]*$/` tries every start, and a line
  // with a 40,000-character word took seconds).
  let p = text.length;
  while (p > 0 && !/[\s"]/.test(text[p - 1])) p--;
  const partial = text.slice(p);
  const before = text.slice(0, text.length - partial.length);
  const words = before.match(/"(?:[^"\\]|\\.)*"?|[^\s"]+/g) ?? [];
  return { words, partial };
}

/** The next slots a statement of this pattern can take after `words`. */
function nextSlots(pattern: Slot[], words: string[]): Slot[] {
  const skip = (s: Slot): number => 1 + ('kw' in s ? (s.group ?? 0) : 0); // an absent optional group, whole
  let i = 0;
  for (const w of words) {
    while (i < pattern.length) {
      const s = pattern[i];
      if ('kw' in s && s.optional && s.kw !== w) {
        i += skip(s);
        continue;
      }
      break;
    }
    if (i >= pattern.length) return [];
    i++;
  }
  // What may come next: each optional group's keyword in turn, then the first slot that is not optional.
  const out: Slot[] = [];
  while (i < pattern.length) {
    const s = pattern[i];
    out.push(s);
    if (!('kw' in s && s.optional)) break;
    i += skip(s);
  }
  return out;
}

function contextOf(s: DocState, offset: number): { ctx: Context; owner?: Stmt; parents: Stmt[] } {
  const e = enclosingBlock(s.analysis.tree.stmts, offset);
  if (!e) return { ctx: 'top', parents: [] };
  const k = e.owner.words[0]?.text;
  const depth = e.parents.length;
  const ctx: Context =
    depth === 0 && (k === 'host' || k === 'device' || k === 'guest') ? k : depth === 1 && k === 'sriov' ? 'sriov' : depth === 1 && k === 'assign' ? 'assign' : 'unknown';
  return { ctx, owner: e.owner, parents: e.parents };
}

export function getCompletions(s: DocState, params: CompletionParams): CompletionItem[] {
  // A position past the end of its line or of the document stands for that end (and the edit range says so).
  const offset = s.index.offsetAt(params.position);
  const pos = s.index.positionAt(offset);
  const lineStart = s.index.lineStarts[pos.line] ?? 0;
  const sw = statementWords(s.text.slice(lineStart, offset));
  if (!sw) return [];
  const { words, partial } = sw;
  const { ctx, owner, parents } = contextOf(s, offset);
  const replace: Range = { start: { line: pos.line, character: pos.character - partial.length }, end: pos };
  const item = (label: string, kind: CompletionItemKind, detail?: string, sort?: string): CompletionItem => ({
    label,
    kind,
    detail,
    sortText: sort,
    textEdit: { range: replace, newText: label },
  });

  if (words.length === 0) {
    if (params.context?.triggerKind === CompletionTriggerKind.TriggerCharacter) return [];
    // Plain keywords: block templates come from the client's snippets (snippets/bartopo.json in VS Code).
    return Object.keys(PATTERNS[ctx]).map((k) => item(k, CompletionItemKind.Keyword, STATEMENT_DOCS[k]));
  }
  const pattern = PATTERNS[ctx][words[0]];
  if (!pattern) return [];
  const out: CompletionItem[] = [];
  for (const slot of nextSlots(pattern, words)) {
    if ('kw' in slot) {
      out.push(item(slot.kw, CompletionItemKind.Keyword, VALUE_DOCS[slot.kw]));
      continue;
    }
    out.push(...valueItems(s, slot.value, words, ctx, owner, parents, item, offset));
  }
  return out;
}

function deviceOf(s: DocState, owner: Stmt | undefined, parents: Stmt[], ctx: Context): DeviceNode | undefined {
  const stmt = ctx === 'device' ? owner : ctx === 'sriov' ? parents[0] : undefined;
  return stmt ? s.analysis.file.devices.find((d) => d.stmt === stmt) : undefined;
}

function valueItems(
  s: DocState,
  kind: Extract<Slot, { value: string }>['value'],
  words: string[],
  ctx: Context,
  owner: Stmt | undefined,
  parents: Stmt[],
  item: (label: string, kind: CompletionItemKind, detail?: string, sort?: string) => CompletionItem,
  /** The cursor: the statement it is in is the one being written, whose own words take nothing. */
  offset: number,
): CompletionItem[] {
  const a = s.analysis;
  const P = a.topology.host.pageSize;
  const sizes = (list: string[], note?: (label: string) => string | undefined): CompletionItem[] =>
    list.map((l, i) => item(l, CompletionItemKind.Value, note?.(l), String(i).padStart(2, '0')));
  switch (kind) {
    case 'pagesize':
      return sizes(['4K', '16K', '64K'], (l) => (l === '64K' ? 'POWER (ppc64le) and some arm64 kernels' : l === '4K' ? 'x86_64 and most arm64 kernels' : 'Apple silicon and some arm64 kernels'));
    case 'arch':
      return ['x86_64', 'ppc64le', 'arm64', 's390x', 'riscv64'].map((x) => item(x, CompletionItemKind.EnumMember));
    case 'yesno':
    case 'policy':
    case 'msixmode':
    case 'kind': {
      // A VF BAR (in an `sriov` block) is memory: SR-IOV gives VFs no I/O space.
      const barKinds = ctx === 'sriov' ? ['mem32', 'mem64'] : ['mem32', 'mem64', 'io'];
      const vals = kind === 'yesno' ? ['yes', 'no'] : kind === 'policy' ? ['listed', 'size-descending', 'page-match'] : kind === 'msixmode' ? ['emulate', 'paravirt', 'relocate'] : barKinds;
      return vals.map((x) => item(x, CompletionItemKind.EnumMember, VALUE_DOCS[x]));
    }
    case 'barsize': {
      if (words[0] === 'bar' && words[2] === 'io') return sizes(['4', '8', '16', '32', '64', '128', '256']);
      const list = ['4K', '8K', '16K', '64K', '128K', '256K', '1M', '2M', '16M', '32M', '256M', '1G', '16', '256', '1K'];
      return sizes(list, (l) => {
        const b = BigInt(l.endsWith('K') ? +l.slice(0, -1) * 1024 : l.endsWith('M') ? +l.slice(0, -1) * 1048576 : l.endsWith('G') ? +l.slice(0, -1) * 1073741824 : +l);
        return b < P ? `smaller than the ${formatSize(P)} page: mmapped only alone in a page` : b === P ? 'one host page' : undefined;
      });
    }
    case 'winsize':
      return sizes(['256M', '512M', '1G', '2G', '4G', '64G', '1T']);
    case 'romsize':
      return sizes(['2K', '4K', '32K', '64K', '128K', '256K', '1M']);
    case 'device': {
      const guest = a.file.guests.find((g) => g.stmt === owner);
      const taken = new Set(guest?.assigns.map((x) => x.device?.value).filter((x): x is string => !!x));
      const out: CompletionItem[] = [];
      const seen = new Set<string>();
      for (const d of a.file.devices) {
        const n = d.name?.value;
        if (!n || seen.has(n)) continue;
        seen.add(n);
        const pci = d.stmt.words[3]?.text;
        const it = item(n, CompletionItemKind.Class, [pci, d.groups[0] ? `group ${d.groups[0].value}` : undefined, d.label?.value].filter(Boolean).join(' · '), (taken.has(n) ? '1' : '0') + n);
        if (taken.has(n)) it.detail = `${it.detail ? it.detail + ' · ' : ''}already assigned here`;
        out.push(it);
      }
      return out;
    }
    case 'freeidx':
    case 'vfidx': {
      const d = deviceOf(s, owner, parents, ctx);
      const used = new Set<number>();
      const list = kind === 'freeidx' ? d?.bars : d?.sriovs.find((x) => x.stmt === owner)?.bars;
      for (const b of list ?? []) {
        // The BAR statement being written (`bar 2|`, or its index retyped) does not use the slot it names.
        if (!b.index || (b.stmt.start <= offset && offset <= b.stmt.end)) continue;
        used.add(b.index.value);
        if (b.kind === 'mem64') used.add(b.index.value + 1);
      }
      return [0, 1, 2, 3, 4, 5].filter((i) => !used.has(i)).map((i) => item(String(i), CompletionItemKind.Value, 'free BAR slot', String(i)));
    }
    case 'barref': {
      const d = deviceOf(s, owner, parents, ctx);
      return (d?.bars ?? [])
        .filter((b) => b.index && b.kind !== 'io')
        .map((b) => item(String(b.index!.value), CompletionItemKind.Field, `bar${b.index!.value} ${b.kind ?? ''}${b.size ? ' ' + formatSize(b.size.value) : ''}`, String(b.index!.value)));
    }
    case 'assignidx': {
      const devName = owner?.words[1]?.text;
      const dev = devName ? a.topology.deviceByName.get(devName) : undefined;
      const listed = new Set((owner?.block?.stmts ?? []).filter((x) => x.words[0]?.text === 'bar').map((x) => x.words[1]?.text));
      return (dev?.bars ?? [])
        .filter((b) => b.kind !== 'io')
        .map((b) =>
          item(
            String(b.index),
            CompletionItemKind.Field,
            `${b.id} ${b.kind} ${b.size !== undefined ? formatSize(b.size) : ''}${b.host !== undefined ? ` host ${hex(b.host)}` : ''}${listed.has(String(b.index)) ? ' · already listed' : ''}`,
            (listed.has(String(b.index)) ? '1' : '0') + b.index,
          ),
        );
    }
    default:
      return [];
  }
}
