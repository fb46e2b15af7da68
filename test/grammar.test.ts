// The TextMate grammar (syntaxes/bartopo.tmLanguage.json), tokenized with the same
// engine VS Code uses (vscode-textmate + the oniguruma WASM build), plus the editor
// files that ship beside it: language-configuration.json and snippets/bartopo.json.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vsctm from 'vscode-textmate';
import * as oniguruma from 'vscode-oniguruma';
import { parse } from '../server/src/engine/parser';
import { REPO_ROOT } from './paths';

const GRAMMAR_PATH = path.join(REPO_ROOT, 'syntaxes', 'bartopo.tmLanguage.json');
const WASM_PATH = path.join(REPO_ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm');
const LANG_CONFIG_PATH = path.join(REPO_ROOT, 'language-configuration.json');
const SNIPPETS_PATH = path.join(REPO_ROOT, 'snippets', 'bartopo.json');

const BASE = 'source.bartopo';

/** One token: its text and its scopes without the base scope. */
type Tok = [text: string, scopes: string[]];

let grammar: vsctm.IGrammar;
/** Loads the grammar once; every suite that tokenizes calls this in its `before`. */
async function ensureGrammar(): Promise<void> {
  grammar ??= await loadGrammar();
}

async function loadGrammar(): Promise<vsctm.IGrammar> {
  const wasm = fs.readFileSync(WASM_PATH);
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === BASE ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_PATH, 'utf8'), GRAMMAR_PATH) : null,
  });
  const g = await registry.loadGrammar(BASE);
  if (!g) throw new Error(`could not load ${GRAMMAR_PATH}`);
  return g;
}

/**
 * Tokenizes lines (carrying the rule stack from line to line) and returns, per line,
 * the tokens with the base scope removed. Whitespace-only tokens that carry nothing but
 * the base scope are dropped, so expectations list only what matters.
 */
function tokenizeLines(lines: string[]): Tok[][] {
  let stack: vsctm.StateStack = vsctm.INITIAL;
  const out: Tok[][] = [];
  for (const line of lines) {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    // the tokens must cover the line exactly
    const text = r.tokens.map((t) => line.slice(t.startIndex, Math.min(t.endIndex, line.length))).join('');
    assert.strictEqual(text, line, 'tokens do not cover the line');
    const toks: Tok[] = [];
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, Math.min(t.endIndex, line.length));
      assert.strictEqual(t.scopes[0], BASE);
      const scopes = t.scopes.slice(1);
      if (scopes.length === 0 && /^\s*$/.test(s)) continue;
      toks.push([s, scopes]);
    }
    out.push(toks);
  }
  return out;
}

function tokenize(line: string): Tok[] {
  return tokenizeLines([line])[0];
}

const KW = 'keyword.other.bartopo';
const DEC = 'constant.numeric.integer.decimal.bartopo';
const HEX = 'constant.numeric.integer.hexadecimal.bartopo';
const UNIT = 'keyword.other.unit.bartopo';
const KIND = 'storage.type.bar.bartopo';
const ENUM = 'constant.language.bartopo';
const PCI = 'constant.other.pci-address.bartopo';
const COMMENT = 'comment.line.number-sign.bartopo';
const COMMENT_PUNCT = 'punctuation.definition.comment.bartopo';
const STR = 'string.quoted.double.bartopo';
const STR_BEGIN = 'punctuation.definition.string.begin.bartopo';
const STR_END = 'punctuation.definition.string.end.bartopo';
const ESC = 'constant.character.escape.bartopo';
const LBRACE = 'punctuation.section.block.begin.bartopo';
const RBRACE = 'punctuation.section.block.end.bartopo';
const SEMI = 'punctuation.terminator.statement.bartopo';
const DEVICE_NAME = 'entity.name.type.device.bartopo';

/** The example of spec section 2. */
const SPEC_EXAMPLE = `# NEC USB controller, three functions, on a POWER host with 64 KiB pages
host power8 {
  page-size 64K
  arch ppc64le
  window mmio32 0x3fe0_8000_0000 size 2G
}

device ohci0 at 0001:00:01.0 {
  group 7
  name "NEC uPD720101 OHCI"
  id 1033:0035
  bar 0 mem32 size 4K at 0x3fe080010000
}
device ohci1 at 0001:00:01.1 {
  group 7
  bar 0 mem32 size 4K at 0x3fe080021000
}
device ehci at 0001:00:01.2 {
  group 7
  bar 0 mem32 size 256 at 0x3fe080032000
  msix entries 4 table bar 0 offset 0x80 pba bar 0 offset 0xc0
}

device nic at 0002:01:00.0 {
  group 9
  bar 0 mem64 prefetch size 32M at 0x210000000000
  msix entries 64 table bar 0 offset 0x2000 pba bar 0 offset 0x3000
  region doorbells bar 0 offset 0x0 size 8K hot
  sriov vfs 8 {
    bar 0 mem64 prefetch size 16K at 0x210002000000
  }
}

guest vm0 {
  window 0x2000_8000_0000 size 1G
  allocate listed
  assign ohci0
  assign ohci1
  assign ehci {
    bar 0 at 0x200080032000
  }
  assign nic
}
`;

describe('TextMate grammar', () => {
  before(ensureGrammar);

  it('has scopeName source.bartopo and valid JSON', () => {
    const raw = JSON.parse(fs.readFileSync(GRAMMAR_PATH, 'utf8')) as { scopeName: string };
    assert.strictEqual(raw.scopeName, BASE);
  });

  it('scopes a comment line, with # as its punctuation', () => {
    assert.deepStrictEqual(tokenize('# NEC USB controller, 64 KiB pages'), [
      ['#', [COMMENT, COMMENT_PUNCT]],
      [' NEC USB controller, 64 KiB pages', [COMMENT]],
    ]);
  });

  it('scopes a comment after a statement; keywords inside it are plain comment', () => {
    assert.deepStrictEqual(tokenize('  group 7 # bar 0 size 4K'), [
      ['group', [KW]],
      ['7', [DEC]],
      ['#', [COMMENT, COMMENT_PUNCT]],
      [' bar 0 size 4K', [COMMENT]],
    ]);
  });

  it('scopes page-size 64K as keyword, number and unit', () => {
    assert.deepStrictEqual(tokenize('  page-size 64K'), [
      ['page-size', [KW]],
      ['64', [DEC]],
      ['K', [DEC, UNIT]],
    ]);
  });

  it('scopes every size unit, including the KiB forms, and hex sizes', () => {
    assert.deepStrictEqual(tokenize('4K 64KiB 1M 2G 1T 3TiB 0x10K 256'), [
      ['4', [DEC]],
      ['K', [DEC, UNIT]],
      ['64', [DEC]],
      ['KiB', [DEC, UNIT]],
      ['1', [DEC]],
      ['M', [DEC, UNIT]],
      ['2', [DEC]],
      ['G', [DEC, UNIT]],
      ['1', [DEC]],
      ['T', [DEC, UNIT]],
      ['3', [DEC]],
      ['TiB', [DEC, UNIT]],
      ['0x10', [HEX]],
      ['K', [HEX, UNIT]],
      ['256', [DEC]],
    ]);
  });

  it('scopes a bar statement: keywords, kind, numbers and a hex address with _ separators', () => {
    assert.deepStrictEqual(tokenize('  bar 0 mem64 prefetch size 32M at 0x2100_0000_0000'), [
      ['bar', [KW]],
      ['0', [DEC]],
      ['mem64', [KIND]],
      ['prefetch', [KW]],
      ['size', [KW]],
      ['32', [DEC]],
      ['M', [DEC, UNIT]],
      ['at', [KW]],
      ['0x2100_0000_0000', [HEX]],
    ]);
  });

  it('scopes all three BAR kinds as storage.type', () => {
    const kinds = tokenize('mem32 mem64 io').map(([, s]) => s);
    assert.deepStrictEqual(kinds, [[KIND], [KIND], [KIND]]);
  });

  it('scopes a device declaration: declaration keyword, name, PCI address, brace', () => {
    assert.deepStrictEqual(tokenize('device ehci at 0001:00:01.2 {'), [
      ['device', ['keyword.declaration.device.bartopo']],
      ['ehci', [DEVICE_NAME]],
      ['at', [KW]],
      ['0001:00:01.2', [PCI]],
      ['{', [LBRACE]],
    ]);
  });

  it('scopes a PCI address without domain and a hyphenated device name', () => {
    assert.deepStrictEqual(tokenize('device usb-3_ctl at 00:1f.7 {'), [
      ['device', ['keyword.declaration.device.bartopo']],
      ['usb-3_ctl', [DEVICE_NAME]],
      ['at', [KW]],
      ['00:1f.7', [PCI]],
      ['{', [LBRACE]],
    ]);
  });

  it('does not take `at` for the name of a device whose name is missing', () => {
    assert.deepStrictEqual(tokenize('device at 00:01.0'), [
      ['device', ['keyword.declaration.device.bartopo']],
      ['at', [KW]],
      ['00:01.0', [PCI]],
    ]);
  });

  it('takes `at`, `bar` and `size` for names where the parser does (the keyword follows them)', () => {
    assert.deepStrictEqual(tokenize('device at at 00:01.0'), [
      ['device', ['keyword.declaration.device.bartopo']],
      ['at', [DEVICE_NAME]],
      ['at', [KW]],
      ['00:01.0', [PCI]],
    ]);
    assert.deepStrictEqual(tokenize('region bar bar 0').slice(0, 3), [
      ['region', [KW]],
      ['bar', ['entity.name.variable.region.bartopo']],
      ['bar', [KW]],
    ]);
    assert.deepStrictEqual(tokenize('window size 0xfe000000 size 16M').slice(0, 4), [
      ['window', [KW]],
      ['size', ['entity.name.variable.window.bartopo']],
      ['0xfe000000', [HEX]],
      ['size', [KW]],
    ]);
    // And the parser agrees: these are names.
    const file = parse('host { window size 0xfe000000 size 16M }\ndevice at at 00:01.0 {\n  bar 0 mem32 size 4K at 0xfe000000\n  region bar bar 0 offset 0 size 4K\n}\n');
    assert.deepStrictEqual(file.errors, []);
    assert.deepStrictEqual([file.file.hosts[0].windows[0].name?.value, file.file.devices[0].name?.value, file.file.devices[0].regions[0].name?.value], ['size', 'at', 'bar']);
  });

  it('scopes a statement after a byte order mark in the middle of the file (files joined with cat), as the lexer reads it', () => {
    assert.deepStrictEqual(tokenize('\ufeffdevice e at 00:02.0 {'), [
      ['device', ['keyword.declaration.device.bartopo']],
      ['e', [DEVICE_NAME]],
      ['at', [KW]],
      ['00:02.0', [PCI]],
      ['{', [LBRACE]],
    ]);
    assert.deepStrictEqual(parse('device d at 00:01.0 { group 1 }\n\ufeffdevice e at 00:02.0 {\n  group 2\n}\n').errors, []);
  });

  it('scopes host (named and anonymous) and guest declarations', () => {
    assert.deepStrictEqual(tokenizeLines(['host power8 {', 'host {', 'guest vm-0 {', '}']), [
      [
        ['host', ['keyword.declaration.host.bartopo']],
        ['power8', ['entity.name.type.host.bartopo']],
        ['{', [LBRACE]],
      ],
      [
        ['host', ['keyword.declaration.host.bartopo']],
        ['{', [LBRACE]],
      ],
      [
        ['guest', ['keyword.declaration.guest.bartopo']],
        ['vm-0', ['entity.name.function.guest.bartopo']],
        ['{', [LBRACE]],
      ],
      [['}', [RBRACE]]],
    ]);
  });

  it('matches allocate size-descending as one whole constant, not the `size` keyword', () => {
    assert.deepStrictEqual(tokenize('  allocate size-descending'), [
      ['allocate', [KW]],
      ['size-descending', [ENUM]],
    ]);
    assert.deepStrictEqual(tokenize('allocate page-match; msix relocate'), [
      ['allocate', [KW]],
      ['page-match', [ENUM]],
      [';', [SEMI]],
      ['msix', [KW]],
      ['relocate', [ENUM]],
    ]);
  });

  it('matches msix-mappable whole (not msix) and yes/no as constants', () => {
    assert.deepStrictEqual(tokenize('msix-mappable no'), [
      ['msix-mappable', [KW]],
      ['no', [ENUM]],
    ]);
    assert.deepStrictEqual(tokenize('msix-mappable yes'), [
      ['msix-mappable', [KW]],
      ['yes', [ENUM]],
    ]);
  });

  it('never matches keywords, kinds or numbers inside a longer word', () => {
    // `bar`, `size`, `io`, `no`, `64` appear inside these words but none is a token of its own
    assert.deepStrictEqual(tokenize('assign my-bar-io_no'), [
      ['assign', [KW]],
      ['my-bar-io_no', [DEVICE_NAME]],
    ]);
    assert.deepStrictEqual(tokenize('sizes page-sizes nosize x64 64k 4KB 0x1g'), [
      ['sizes page-sizes nosize x64 64k 4KB 0x1g', []],
    ]);
  });

  it('scopes a string with escaped quote and backslash', () => {
    assert.deepStrictEqual(tokenize('  name "NEC \\"uPD\\" \\\\ OHCI"'), [
      ['name', [KW]],
      ['"', [STR, STR_BEGIN]],
      ['NEC ', [STR]],
      ['\\"', [STR, ESC]],
      ['uPD', [STR]],
      ['\\"', [STR, ESC]],
      [' ', [STR]],
      ['\\\\', [STR, ESC]],
      [' OHCI', [STR]],
      ['"', [STR, STR_END]],
    ]);
  });

  it('does not start a comment at a # inside a string, but does after it', () => {
    assert.deepStrictEqual(tokenize('name "port #2 {x}" # real comment'), [
      ['name', [KW]],
      ['"', [STR, STR_BEGIN]],
      ['port #2 {x}', [STR]],
      ['"', [STR, STR_END]],
      ['#', [COMMENT, COMMENT_PUNCT]],
      [' real comment', [COMMENT]],
    ]);
  });

  it('ends an unterminated string at the end of its line', () => {
    const [first, second] = tokenizeLines(['name "unterminated', 'bar 1 io size 16']);
    assert.deepStrictEqual(first, [
      ['name', [KW]],
      ['"', [STR, STR_BEGIN]],
      ['unterminated', [STR]],
    ]);
    assert.deepStrictEqual(second, [
      ['bar', [KW]],
      ['1', [DEC]],
      ['io', [KIND]],
      ['size', [KW]],
      ['16', [DEC]],
    ]);
  });

  it('scopes the msix statement and the vendor:device id', () => {
    assert.deepStrictEqual(tokenize('msix entries 4 table bar 0 offset 0x80 pba bar 0 offset 0xc0'), [
      ['msix', [KW]],
      ['entries', [KW]],
      ['4', [DEC]],
      ['table', [KW]],
      ['bar', [KW]],
      ['0', [DEC]],
      ['offset', [KW]],
      ['0x80', [HEX]],
      ['pba', [KW]],
      ['bar', [KW]],
      ['0', [DEC]],
      ['offset', [KW]],
      ['0xc0', [HEX]],
    ]);
    assert.deepStrictEqual(tokenize('id 1033:0035'), [
      ['id', [KW]],
      ['1033:0035', ['constant.other.pci-id.bartopo']],
    ]);
  });

  it('scopes the names introduced by window, region, arch and referenced by assign', () => {
    assert.deepStrictEqual(tokenize('window mmio32 0x3fe0_8000_0000 size 2G prefetch'), [
      ['window', [KW]],
      ['mmio32', ['entity.name.variable.window.bartopo']],
      ['0x3fe0_8000_0000', [HEX]],
      ['size', [KW]],
      ['2', [DEC]],
      ['G', [DEC, UNIT]],
      ['prefetch', [KW]],
    ]);
    assert.deepStrictEqual(tokenize('region doorbells bar 0 offset 0x0 size 8K hot'), [
      ['region', [KW]],
      ['doorbells', ['entity.name.variable.region.bartopo']],
      ['bar', [KW]],
      ['0', [DEC]],
      ['offset', [KW]],
      ['0x0', [HEX]],
      ['size', [KW]],
      ['8', [DEC]],
      ['K', [DEC, UNIT]],
      ['hot', [KW]],
    ]);
    assert.deepStrictEqual(tokenize('arch x86_64; assign nic {'), [
      ['arch', [KW]],
      ['x86_64', ['support.constant.arch.bartopo']],
      [';', [SEMI]],
      ['assign', [KW]],
      ['nic', [DEVICE_NAME]],
      ['{', [LBRACE]],
    ]);
  });

  it('gives every word of the spec example a scope', () => {
    const lines = SPEC_EXAMPLE.split('\n');
    const toks = tokenizeLines(lines);
    const unscoped = toks.flat().filter(([, s]) => s.length === 0);
    assert.deepStrictEqual(unscoped, []);
    // the block structure does not leak state: the last `}` is plain punctuation
    assert.deepStrictEqual(toks[lines.length - 2], [['}', [RBRACE]]]);
  });
});

interface LanguageConfiguration {
  comments: { lineComment: string };
  brackets: [string, string][];
  autoClosingPairs: { open: string; close: string; notIn?: string[] }[];
  surroundingPairs: [string, string][];
  wordPattern: string;
  indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
}

describe('language-configuration.json', () => {
  const conf = JSON.parse(fs.readFileSync(LANG_CONFIG_PATH, 'utf8')) as LanguageConfiguration;

  /** The word VS Code selects on a double-click at `offset` in `line`. */
  function wordAt(line: string, offset: number): string | undefined {
    const re = new RegExp(conf.wordPattern, 'g');
    for (let m = re.exec(line); m; m = re.exec(line)) {
      if (m.index <= offset && offset < m.index + m[0].length) return m[0];
      if (m[0].length === 0) re.lastIndex++;
    }
    return undefined;
  }

  it('uses # for line comments and {} as brackets, auto-closed outside strings and comments', () => {
    assert.strictEqual(conf.comments.lineComment, '#');
    assert.deepStrictEqual(conf.brackets, [['{', '}']]);
    const pairs = conf.autoClosingPairs.map((p) => [p.open, p.close, [...(p.notIn ?? [])].sort()]);
    assert.deepStrictEqual(pairs, [
      ['{', '}', ['comment', 'string']],
      ['"', '"', ['comment', 'string']],
    ]);
    assert.deepStrictEqual(conf.surroundingPairs, [
      ['{', '}'],
      ['"', '"'],
    ]);
  });

  it('selects hyphenated words whole and stops at : and .', () => {
    const line = 'allocate size-descending; device usb_3-x at 0001:00:01.2 window 0x3fe0_8000_0000';
    assert.strictEqual(wordAt(line, line.indexOf('descending')), 'size-descending');
    assert.strictEqual(wordAt(line, line.indexOf('usb_3-x') + 4), 'usb_3-x');
    assert.strictEqual(wordAt(line, line.indexOf('0001')), '0001');
    assert.strictEqual(wordAt(line, line.indexOf('01.2') + 3), '2');
    assert.strictEqual(wordAt(line, line.indexOf('8000')), '0x3fe0_8000_0000');
    assert.strictEqual(wordAt(line, line.indexOf(';')), undefined);
  });

  it('indents after a line ending in { and outdents a line starting with }', () => {
    const inc = new RegExp(conf.indentationRules.increaseIndentPattern);
    const dec = new RegExp(conf.indentationRules.decreaseIndentPattern);
    assert.ok(inc.test('device nic at 0002:01:00.0 {'));
    assert.ok(inc.test('  sriov vfs 8 {   # VFs'));
    assert.ok(!inc.test('  bar 0 mem32 size 4K'));
    assert.ok(!inc.test('  name "brace {"'));
    assert.ok(!inc.test('  group 7 # {'));
    assert.ok(dec.test('  }'));
    assert.ok(!dec.test('  bar 0 at 0x1000'));
  });
});

interface Snippet {
  prefix: string;
  body: string[];
  description: string;
}

/** Expands a snippet body the way accepting every default does: placeholders → their text, choices → the first option. */
function expandSnippet(body: string[]): string {
  let text = body.join('\n').replace(/\t/g, '  ');
  for (let prev = ''; prev !== text; ) {
    prev = text;
    text = text
      .replace(/\$\{\d+\|([^,|}]*)[^}]*\|\}/g, '$1')
      .replace(/\$\{\d+:([^${}]*)\}/g, '$1')
      .replace(/\$\{?\d+\}?/g, '');
  }
  return text;
}

describe('snippets/bartopo.json', () => {
  const snippets = JSON.parse(fs.readFileSync(SNIPPETS_PATH, 'utf8')) as Record<string, Snippet>;
  const byPrefix = new Map(Object.values(snippets).map((s) => [s.prefix, s]));
  before(ensureGrammar);

  it('offers host, device, guest, bar, msix, sriov and region snippets with tab stops', () => {
    for (const p of ['host', 'device', 'guest', 'bar', 'msix', 'sriov', 'region']) {
      const s = byPrefix.get(p);
      assert.ok(s, `no snippet with prefix ${p}`);
      assert.ok(s.description.length > 0);
      assert.match(s.body.join('\n'), /\$\{1[:|]/, `${p}: no first tab stop`);
    }
    assert.match(byPrefix.get('host')!.body.join('\n'), /page-size \$\{\d+\|64K,/);
    assert.match(byPrefix.get('bar')!.body.join('\n'), /\$\{\d+\|mem32,mem64,io\|\}/);
    assert.match(byPrefix.get('guest')!.body.join('\n'), /allocate \$\{\d+\|page-match,/);
  });

  it('expand (with their defaults) to text the parser accepts and the grammar scopes fully', () => {
    const dev = (s: string): string => `device d at 00:01.0 {\n${s}\n}`;
    const files = [
      expandSnippet(byPrefix.get('host')!.body),
      expandSnippet(byPrefix.get('device')!.body),
      expandSnippet(byPrefix.get('guest')!.body),
      dev(expandSnippet(byPrefix.get('bar')!.body)),
      dev(expandSnippet(byPrefix.get('msix')!.body) + '\nbar 0 mem32 size 16K at 0xfe000000'),
      dev(expandSnippet(byPrefix.get('sriov')!.body)),
      dev(expandSnippet(byPrefix.get('region')!.body) + '\nbar 0 mem32 size 16K at 0xfe000000'),
    ];
    for (const text of files) {
      assert.doesNotMatch(text, /\$/, `unexpanded tab stop in:\n${text}`);
      assert.deepStrictEqual(parse(text).errors, [], `syntax errors in:\n${text}`);
      const unscoped = tokenizeLines(text.split('\n')).flat().filter(([, s]) => s.length === 0);
      assert.deepStrictEqual(unscoped, [], `unscoped words in:\n${text}`);
    }
  });
});
