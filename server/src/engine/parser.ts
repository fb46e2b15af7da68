// Typed parse of the generic statement tree (tree.ts) following section 2 of
// the spec. Each statement is matched word by word; the first mismatch yields
// one `syntax` diagnostic on the offending word and the rest of that statement
// is skipped, so one typo never hides the findings of the next statement.

import { Tok, Token } from './lexer';
import { parseTree, Stmt, Tree } from './tree';
import {
  AssignBarNode,
  AssignNode,
  BarKind,
  BarNode,
  DeviceNode,
  FileNode,
  GuestNode,
  HostNode,
  MsixMode,
  Policy,
  Val,
  val,
} from './ast';
import { isName, isPowerOfTwo, parseInteger, parsePci, parseSize, Parsed } from './values';
import { Span } from './types';

export interface SyntaxError {
  span: Span;
  message: string;
}

export interface ParseResult {
  tree: Tree;
  file: FileNode;
  errors: SyntaxError[];
}

class Args {
  private i = 1;
  failed = false;
  constructor(
    /** The statement's words, scanned once by the caller (Stmt.words scans afresh on each read). */
    private readonly words: Token[],
    private readonly errors: SyntaxError[],
    private readonly what: string,
  ) {}

  private fail(span: Span, message: string): undefined {
    if (!this.failed) this.errors.push({ span, message });
    this.failed = true;
    return undefined;
  }

  /** Span used when a word is missing: the last word of the statement. */
  private missingSpan(): Span {
    const last = this.words[this.words.length - 1];
    return { start: last.start, end: last.end };
  }

  private next(expected: string): Token | undefined {
    if (this.failed) return undefined;
    const t = this.words[this.i];
    if (!t) return this.fail(this.missingSpan(), `${this.what}: expected ${expected} after \`${this.words[this.i - 1].text}\``);
    this.i++;
    return t;
  }

  peekIs(word: string): boolean {
    const t = this.words[this.i];
    return !this.failed && !!t && t.kind === Tok.Word && t.text === word;
  }

  hasMore(): boolean {
    return !this.failed && this.i < this.words.length;
  }

  keyword(word: string): boolean {
    const t = this.next(`\`${word}\``);
    if (!t) return false;
    if (t.kind !== Tok.Word || t.text !== word) {
      this.fail(t, `${this.what}: expected \`${word}\` here, found \`${t.text}\``);
      return false;
    }
    return true;
  }

  optKeyword(word: string): boolean {
    if (this.peekIs(word)) {
      this.i++;
      return true;
    }
    return false;
  }

  private parsed<T>(expected: string, f: (s: string) => Parsed<T>): Val<T> | undefined {
    const t = this.wordToken(expected);
    if (!t) return undefined;
    const r = f(t.text);
    if (!r.ok) return this.fail(t, `${this.what}: ${r.message}`);
    return val(r.value, t);
  }

  /** The next word, which must not be a string. (The value readers below allocate nothing but their result.) */
  private wordToken(expected: string): Token | undefined {
    const t = this.next(expected);
    if (!t) return undefined;
    if (t.kind !== Tok.Word) return this.fail(t, `${this.what}: expected ${expected}, found a string`);
    return t;
  }

  integer(expected: string): Val<bigint> | undefined {
    return this.parsed(expected, parseInteger);
  }

  size(expected = 'a size such as 4K'): Val<bigint> | undefined {
    return this.parsed(expected, parseSize);
  }

  smallInt(expected: string, max: number): Val<number> | undefined {
    const t = this.wordToken(expected);
    if (!t) return undefined;
    const r = parseInteger(t.text);
    if (!r.ok) return this.fail(t, `${this.what}: ${r.message}`);
    if (r.value > BigInt(max)) return this.fail(t, `${this.what}: ${expected} must be 0-${max}, found ${r.value}`);
    return val(Number(r.value), t);
  }

  name(expected: string): Val<string> | undefined {
    const t = this.wordToken(expected);
    if (!t) return undefined;
    if (!isName(t.text)) return this.fail(t, `${this.what}: \`${t.text}\` is not a valid name (letters, digits, \`_\` and \`-\`, not starting with a digit)`);
    return val(t.text, t);
  }

  word(expected: string): Val<string> | undefined {
    const t = this.wordToken(expected);
    return t ? val(t.text, t) : undefined;
  }

  choice<T extends string>(expected: string, options: readonly T[]): Val<T> | undefined {
    const t = this.wordToken(expected);
    if (!t) return undefined;
    if (!(options as readonly string[]).includes(t.text)) return this.fail(t, `${this.what}: expected ${options.map((o) => '`' + o + '`').join(', ')}; found \`${t.text}\``);
    return val(t.text as T, t);
  }

  string(expected: string): Val<string> | undefined {
    const t = this.next(expected);
    if (!t) return undefined;
    if (t.kind !== Tok.String) return this.fail(t, `${this.what}: expected ${expected} in double quotes, found \`${t.text}\``);
    if (t.unterminated) return this.fail(t, `${this.what}: the string is missing its closing \`"\``);
    return val(t.value!, t);
  }

  pci(): Val<ReturnType<typeof parsePci> extends Parsed<infer P> ? P : never> | undefined {
    return this.parsed('a PCI address such as 0000:01:00.0', parsePci);
  }

  /** No words may follow. */
  end(): void {
    if (this.failed) return;
    const t = this.words[this.i];
    if (t) this.fail({ start: t.start, end: this.words[this.words.length - 1].end }, `${this.what}: unexpected \`${t.text}\` at the end of the statement`);
  }
}

const KINDS: readonly BarKind[] = ['mem32', 'mem64', 'io'];
const POLICIES: readonly Policy[] = ['listed', 'size-descending', 'page-match'];
const MSIX_MODES: readonly MsixMode[] = ['emulate', 'paravirt', 'relocate'];

const HOST_STMTS = ['page-size', 'arch', 'msix-mappable', 'window'];
const DEVICE_STMTS = ['group', 'name', 'id', 'bar', 'msix', 'region', 'rom', 'sriov'];
const GUEST_STMTS = ['window', 'allocate', 'msix', 'assign'];

/** A plain span of a token: the AST keeps no token (nor its text) alive. */
function spanOf(t: Span): Span {
  return { start: t.start, end: t.end };
}

export function parse(text: string): ParseResult {
  const tree = parseTree(text);
  const errors: SyntaxError[] = tree.errors.map((e) => ({ span: e.span, message: e.message }));
  const file: FileNode = { hosts: [], devices: [], guests: [], repeated: [] };
  parseStatements(tree.stmts, file, errors);
  return { tree, file, errors };
}

/** The typed parse of top-level statements: their nodes are appended to `file`, their errors to `errors`. */
export function parseStatements(stmts: readonly Stmt[], file: FileNode, errors: SyntaxError[]): void {

  const unexpectedBlock = (s: Stmt, what: string): void => {
    if (s.block) errors.push({ span: spanOf(s.block.open), message: `${what} takes no \`{ … }\` block` });
  };
  const needBlock = (s: Stmt, words: Token[], what: string): boolean => {
    if (!s.block) {
      const last = words[words.length - 1];
      errors.push({ span: spanOf(last), message: `${what}: expected \`{\` to open its block` });
      return false;
    }
    return true;
  };
  const unknown = (t: Token | undefined, where: string, allowed: string[]): void => {
    if (!t) return; // anonymous block, already reported
    const hint = allowed.map((a) => '`' + a + '`').join(', ');
    const moved =
      where !== 'the top level' && ['host', 'device', 'guest'].includes(t.text)
        ? ` (\`${t.text}\` blocks go at the top level)`
        : '';
    errors.push({ span: spanOf(t), message: `unknown statement \`${t.text}\` in ${where}${moved}; expected one of ${hint}` });
  };

  const parseBar = (s: Stmt, words: Token[], what: string, allowMissingAt = true): BarNode => {
    const a = new Args(words, errors, what);
    const node: BarNode = { prefetch: false, stmt: s };
    node.index = a.smallInt('a BAR index 0-5', 5);
    node.kind = a.choice('a BAR kind', KINDS);
    node.prefetch = a.optKeyword('prefetch');
    if (a.keyword('size')) node.size = a.size();
    if (a.optKeyword('at')) node.address = a.integer('an address such as 0xfe000000');
    else if (!allowMissingAt) a.keyword('at');
    a.end();
    node.incomplete = a.failed;
    unexpectedBlock(s, 'a `bar` statement');
    return node;
  };

  for (const s of stmts) {
    const sw = s.words;
    const kw = sw[0];
    if (!kw) {
      continue; // stray `{ … }`, already reported
    }
    if (kw.kind !== Tok.Word) {
      errors.push({ span: spanOf(kw), message: 'a statement must start with a keyword (`host`, `device` or `guest`), not a string' });
      continue;
    }
    switch (kw.text) {
      case 'host': {
        const h: HostNode = { keyword: spanOf(kw), windows: [], stmt: s };
        const a = new Args(sw, errors, '`host`');
        if (a.hasMore()) h.name = a.name('a host name');
        a.end();
        file.hosts.push(h);
        if (!needBlock(s, sw, '`host`')) break;
        for (const c of s.block!.stmts) {
          const cw = c.words;
          const ck = cw[0];
          if (!ck) continue;
          const ca = new Args(cw, errors, `\`${ck.text}\``);
          switch (ck.text) {
            case 'page-size': {
              const v = ca.size('a page size such as 4K or 64K');
              if (v && (!isPowerOfTwo(v.value) || v.value < 4096n)) {
                errors.push({ span: v.span, message: `\`page-size\`: ${cw[1].text} is not a power of two of at least 4K (use 4K, 16K or 64K)` });
              } else if (v) {
                if (h.pageSize) file.repeated.push({ span: spanOf(ck), message: '`page-size` is given twice in this host block; the first one counts' });
                else h.pageSize = v;
              }
              ca.end();
              break;
            }
            case 'arch':
              h.arch = ca.word('an architecture such as x86_64, ppc64le or arm64');
              ca.end();
              break;
            case 'msix-mappable': {
              const v = ca.choice('`yes` or `no`', ['yes', 'no'] as const);
              if (v && h.msixMappable) file.repeated.push({ span: spanOf(ck), message: '`msix-mappable` is given twice in this host block; the first one counts' });
              else if (v) h.msixMappable = val(v.value === 'yes', v.span);
              ca.end();
              break;
            }
            case 'window': {
              const w = { prefetch: false, stmt: c } as HostNode['windows'][number];
              w.name = ca.name('a window name');
              w.address = ca.integer('the window address');
              if (ca.keyword('size')) w.size = ca.size();
              w.prefetch = ca.optKeyword('prefetch');
              ca.end();
              h.windows.push(w);
              break;
            }
            default:
              unknown(ck, 'a `host` block', HOST_STMTS);
              continue;
          }
          unexpectedBlock(c, `\`${ck.text}\``);
        }
        break;
      }
      case 'device': {
        const d: DeviceNode = { bars: [], msix: [], regions: [], roms: [], sriovs: [], groups: [], stmt: s };
        const a = new Args(sw, errors, '`device`');
        d.name = a.name('a device name');
        if (a.keyword('at')) d.pci = a.pci();
        a.end();
        file.devices.push(d);
        if (!needBlock(s, sw, '`device`')) break;
        for (const c of s.block!.stmts) {
          const cw = c.words;
          const ck = cw[0];
          if (!ck) continue;
          const what = `\`${ck.text}\``;
          const ca = new Args(cw, errors, what);
          switch (ck.text) {
            case 'group': {
              const g = ca.integer('an IOMMU group number');
              if (g) d.groups.push(g);
              ca.end();
              break;
            }
            case 'name':
              d.label = ca.string('a device description');
              ca.end();
              break;
            case 'id':
              d.id = ca.word('a vendor:device id such as 1033:0035');
              if (d.id && !/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/.test(d.id.value)) {
                errors.push({ span: d.id.span, message: `\`id\`: \`${d.id.value}\` is not a vendor:device id (four hex digits each, e.g. 1033:0035)` });
                d.id = undefined;
              }
              ca.end();
              break;
            case 'bar':
              d.bars.push(parseBar(c, cw, '`bar`'));
              continue;
            case 'msix': {
              const m: DeviceNode['msix'][number] = { stmt: c };
              if (ca.keyword('entries')) m.entries = ca.integer('the number of MSI-X vectors');
              if (ca.keyword('table') && ca.keyword('bar')) m.tableBar = ca.smallInt('the table BAR index', 5);
              if (ca.keyword('offset')) m.tableOffset = ca.integer('the table offset');
              if (ca.optKeyword('pba')) {
                if (ca.keyword('bar')) m.pbaBar = ca.smallInt('the PBA BAR index', 5);
                if (ca.keyword('offset')) m.pbaOffset = ca.integer('the PBA offset');
              }
              ca.end();
              d.msix.push(m);
              break;
            }
            case 'region': {
              const r: DeviceNode['regions'][number] = { hot: false, stmt: c };
              r.name = ca.name('a region name');
              if (ca.keyword('bar')) r.bar = ca.smallInt('a BAR index 0-5', 5);
              if (ca.keyword('offset')) r.offset = ca.integer('the offset inside the BAR');
              if (ca.keyword('size')) r.size = ca.size();
              r.hot = ca.optKeyword('hot');
              ca.end();
              d.regions.push(r);
              break;
            }
            case 'rom': {
              const r: DeviceNode['roms'][number] = { stmt: c };
              if (ca.keyword('size')) r.size = ca.size();
              if (ca.optKeyword('at')) r.address = ca.integer('an address');
              ca.end();
              d.roms.push(r);
              break;
            }
            case 'sriov': {
              const sr: DeviceNode['sriovs'][number] = { bars: [], stmt: c };
              if (ca.keyword('vfs')) sr.vfs = ca.integer('the number of VFs');
              ca.end();
              d.sriovs.push(sr);
              if (!c.block) {
                errors.push({ span: spanOf(cw[cw.length - 1]), message: '`sriov`: expected `{` with the VF BARs' });
                continue;
              }
              for (const vb of c.block.stmts) {
                const vw = vb.words;
                const vk = vw[0];
                if (!vk) continue;
                if (vk.text === 'bar') sr.bars.push(parseBar(vb, vw, 'VF `bar`'));
                else unknown(vk, 'an `sriov` block', ['bar']);
              }
              continue;
            }
            default:
              unknown(ck, 'a `device` block', DEVICE_STMTS);
              continue;
          }
          unexpectedBlock(c, what);
        }
        break;
      }
      case 'guest': {
        const g: GuestNode = { windows: [], allocates: [], msixModes: [], assigns: [], stmt: s };
        const a = new Args(sw, errors, '`guest`');
        g.name = a.name('a guest name');
        a.end();
        file.guests.push(g);
        if (!needBlock(s, sw, '`guest`')) break;
        for (const c of s.block!.stmts) {
          const cw = c.words;
          const ck = cw[0];
          if (!ck) continue;
          const what = `\`${ck.text}\``;
          const ca = new Args(cw, errors, what);
          switch (ck.text) {
            case 'window': {
              const w: GuestNode['windows'][number] = { stmt: c };
              w.address = ca.integer('the window address');
              if (ca.keyword('size')) w.size = ca.size();
              ca.end();
              g.windows.push(w);
              break;
            }
            case 'allocate': {
              const p = ca.choice('an allocation policy', POLICIES);
              if (p) g.allocates.push(p);
              ca.end();
              break;
            }
            case 'msix': {
              const m = ca.choice('an MSI-X mode', MSIX_MODES);
              if (m) g.msixModes.push(m);
              ca.end();
              break;
            }
            case 'assign': {
              const as: AssignNode = { bars: [], stmt: c };
              as.device = ca.name('a device name');
              ca.end();
              g.assigns.push(as);
              if (c.block) {
                for (const b of c.block.stmts) {
                  const bw = b.words;
                  const bk = bw[0];
                  if (!bk) continue;
                  if (bk.text !== 'bar') {
                    unknown(bk, 'an `assign` block', ['bar']);
                    continue;
                  }
                  const ba = new Args(bw, errors, '`bar`');
                  const ab: AssignBarNode = { stmt: b };
                  ab.index = ba.smallInt('a BAR index 0-5', 5);
                  if (ba.optKeyword('at')) ab.address = ba.integer('a guest address');
                  ba.end();
                  unexpectedBlock(b, '`bar`');
                  as.bars.push(ab);
                }
              }
              continue;
            }
            default:
              unknown(ck, 'a `guest` block', GUEST_STMTS);
              continue;
          }
          unexpectedBlock(c, what);
        }
        break;
      }
      default:
        unknown(kw, 'the top level', ['host', 'device', 'guest']);
    }
  }
}
