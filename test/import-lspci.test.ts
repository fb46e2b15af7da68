import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parse } from '../server/src/engine/parser';
import { analyze } from '../server/src/engine/analyze';
import { DeviceNode, FileNode } from '../server/src/engine/ast';
import { formatPci } from '../server/src/engine/values';
import { importLspci, parseLspci, LspciDevice } from '../server/src/import/lspci';
import { FIXTURES_DIR, SHARED_DIR } from './paths';

const RAW_DIR = path.join(SHARED_DIR, 'realdata', 'raw');
const EXPECTED_FILE = path.join(FIXTURES_DIR, 'import', 'expected.json');

// ---------------------------------------------------------------------------
// helpers (independent of the importer's own formatting code)

const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };
function sz(s: string): bigint {
  const m = /^(\d+)([KMGT]?)$/.exec(s);
  if (!m) throw new Error(`bad size in fixture: ${s}`);
  return BigInt(m[1]) * UNITS[m[2]];
}

interface Parsed {
  file: FileNode;
  byPci: Map<string, DeviceNode>;
}

/** Parses importer output with the engine's parser, asserting no syntax errors. */
function parseOk(text: string, what: string): Parsed {
  const r = parse(text);
  assert.deepStrictEqual(
    r.errors.map((e) => `${e.message} @${text.slice(0, e.span.start).split('\n').length}`),
    [],
    `${what}: the output does not parse:\n${text}`,
  );
  const byPci = new Map<string, DeviceNode>();
  for (const d of r.file.devices) {
    assert.ok(d.pci, `${what}: a device without a PCI address`);
    const k = formatPci(d.pci.value);
    assert.ok(!byPci.has(k), `${what}: two devices at ${k}`);
    byPci.set(k, d);
  }
  return { file: r.file, byPci };
}

function dev(p: Parsed, pci: string, what: string): DeviceNode {
  const d = p.byPci.get(pci);
  assert.ok(d, `${what}: no device at ${pci} (have ${[...p.byPci.keys()].join(', ')})`);
  return d;
}

function barOf(d: DeviceNode, index: number) {
  return d.bars.find((b) => b.index?.value === index);
}

function modelDev(devs: LspciDevice[], pci: string): LspciDevice {
  const d = devs.find((x) => formatPci(x.pci) === pci && x.duplicateOf === undefined);
  assert.ok(d, `model: no device ${pci}`);
  return d;
}

function totalBars(file: FileNode): number {
  return file.devices.reduce((n, d) => n + d.bars.length, 0);
}

// ---------------------------------------------------------------------------
// Every real dump

interface BarExp {
  pci: string;
  index: number;
  kind: string;
  prefetch: boolean;
  size: string;
  address: string;
}
interface MsixExp {
  pci: string;
  entries: number;
  tableBar: number;
  tableOffset: string;
  pbaBar: number;
  pbaOffset: string;
}
interface FileExp {
  devices: number;
  bars: number;
  pageSize: string;
  pageSizeSource: 'sriov' | 'assumed';
  truncated?: boolean;
  capsDenied?: number;
  bar?: BarExp[];
  anyBar?: { size: string; address: string }[];
  noBar?: { pci: string; index: number }[];
  msix?: MsixExp[];
  modelMsix?: MsixExp[];
  noMsix?: string[];
  rom?: { pci: string; size: string; address: string }[];
  group?: { pci: string; group: number }[];
  id?: { pci: string; id: string }[];
  sriov?: { pci: string; vfs: number; bars: Omit<BarExp, 'pci'>[] }[];
  noSriov?: string[];
}

const expected = JSON.parse(fs.readFileSync(EXPECTED_FILE, 'utf8')) as { files: Record<string, FileExp> };

describe('importLspci on every file of realdata/raw', () => {
  const rawFiles = fs.readdirSync(RAW_DIR).filter((f) => fs.statSync(path.join(RAW_DIR, f)).isFile()).sort();

  it('finds the dumps, and the expected-data file covers exactly them', () => {
    assert.ok(rawFiles.length >= 30, `only ${rawFiles.length} files in ${RAW_DIR}`);
    assert.deepStrictEqual(Object.keys(expected.files).sort(), rawFiles);
  });

  for (const f of rawFiles) {
    describe(f, () => {
      const exp = expected.files[f];
      const text = fs.readFileSync(path.join(RAW_DIR, f), 'utf8');

      it('imports to valid .bartopo with the expected device and BAR counts', () => {
        assert.ok(exp, `no expectations for ${f} in ${EXPECTED_FILE}`);
        const r = importLspci(text, { sourceName: f });
        const p = parseOk(r.text, f);
        assert.strictEqual(r.devices, exp.devices, 'devices reported');
        assert.strictEqual(p.file.devices.length, exp.devices, 'device blocks in the output');
        assert.strictEqual(r.bars, exp.bars, 'bars reported');
        assert.strictEqual(totalBars(p.file), exp.bars, 'bar statements in the output');
        assert.strictEqual(p.file.hosts.length, 1);
        assert.strictEqual(p.file.hosts[0].pageSize?.value, sz(exp.pageSize), 'page-size');
        const assumed = /Page size 4K assumed/.test(r.text);
        assert.strictEqual(assumed, exp.pageSizeSource === 'assumed', 'page size comment');
        for (const w of r.warnings) assert.ok(w.line >= 0 && w.line <= text.split('\n').length + 1, `warning line ${w.line}`);
      });

      it('writes the BARs, ROMs, MSI-X, groups and SR-IOV read from the dump', () => {
        const r = importLspci(text, { sourceName: f });
        const p = parseOk(r.text, f);
        for (const b of exp.bar ?? []) {
          const d = dev(p, b.pci, f);
          const n = barOf(d, b.index);
          assert.ok(n, `${b.pci} bar ${b.index} missing`);
          assert.strictEqual(n.kind, b.kind, `${b.pci} bar ${b.index} kind`);
          assert.strictEqual(n.prefetch, b.prefetch, `${b.pci} bar ${b.index} prefetch`);
          assert.strictEqual(n.size?.value, sz(b.size), `${b.pci} bar ${b.index} size`);
          assert.strictEqual(n.address?.value, BigInt(b.address), `${b.pci} bar ${b.index} address`);
        }
        for (const a of exp.anyBar ?? []) {
          const hit = p.file.devices.some((d) => d.bars.some((b) => b.address?.value === BigInt(a.address) && b.size?.value === sz(a.size)));
          assert.ok(hit, `no BAR of ${a.size} at ${a.address}`);
        }
        for (const b of exp.noBar ?? []) {
          assert.strictEqual(barOf(dev(p, b.pci, f), b.index), undefined, `${b.pci} bar ${b.index} must be a comment (no size)`);
        }
        for (const m of exp.msix ?? []) {
          const d = dev(p, m.pci, f);
          assert.strictEqual(d.msix.length, 1, `${m.pci} msix`);
          const x = d.msix[0];
          assert.strictEqual(x.entries?.value, BigInt(m.entries), `${m.pci} msix entries`);
          assert.strictEqual(x.tableBar?.value, m.tableBar, `${m.pci} msix table bar`);
          assert.strictEqual(x.tableOffset?.value, BigInt(m.tableOffset), `${m.pci} msix table offset`);
          assert.strictEqual(x.pbaBar?.value, m.pbaBar, `${m.pci} msix pba bar`);
          assert.strictEqual(x.pbaOffset?.value, BigInt(m.pbaOffset), `${m.pci} msix pba offset`);
        }
        for (const pci of exp.noMsix ?? []) assert.strictEqual(dev(p, pci, f).msix.length, 0, `${pci}: msix must be a comment`);
        for (const rom of exp.rom ?? []) {
          const d = dev(p, rom.pci, f);
          assert.strictEqual(d.roms.length, 1, `${rom.pci} rom`);
          assert.strictEqual(d.roms[0].size?.value, sz(rom.size));
          assert.strictEqual(d.roms[0].address?.value, BigInt(rom.address));
        }
        for (const g of exp.group ?? []) assert.strictEqual(dev(p, g.pci, f).groups[0]?.value, BigInt(g.group), `${g.pci} group`);
        for (const i of exp.id ?? []) assert.strictEqual(dev(p, i.pci, f).id?.value, i.id, `${i.pci} id`);
        for (const s of exp.sriov ?? []) {
          const d = dev(p, s.pci, f);
          assert.strictEqual(d.sriovs.length, 1, `${s.pci} sriov`);
          assert.strictEqual(d.sriovs[0].vfs?.value, BigInt(s.vfs), `${s.pci} vfs`);
          assert.deepStrictEqual(
            d.sriovs[0].bars.map((b) => [b.index?.value, b.kind, b.prefetch, b.size?.value, b.address?.value]),
            s.bars.map((b) => [b.index, b.kind, b.prefetch, sz(b.size), BigInt(b.address)]),
            `${s.pci} VF BARs`,
          );
        }
        for (const pci of exp.noSriov ?? []) assert.strictEqual(dev(p, pci, f).sriovs.length, 0, `${pci}: VF BAR sizes unknown, sriov must be a comment`);
        if (exp.truncated) assert.match(r.text, /truncated/);
      });

      it('exposes the same facts in the parseLspci model', () => {
        const m = parseLspci(text);
        const devs = m.devices.filter((d) => d.duplicateOf === undefined);
        assert.strictEqual(devs.length, exp.devices);
        for (const b of exp.bar ?? []) {
          const mb = modelDev(m.devices, b.pci).bars.find((x) => x.index === b.index);
          assert.ok(mb, `${b.pci} bar ${b.index} in the model`);
          assert.strictEqual(typeof mb.address, 'bigint');
          assert.strictEqual(mb.address, BigInt(b.address));
          assert.strictEqual(mb.size, sz(b.size));
        }
        for (const x of [...(exp.msix ?? []), ...(exp.modelMsix ?? [])]) {
          const mm = modelDev(m.devices, x.pci).msix;
          assert.ok(mm, `${x.pci} msix in the model`);
          assert.deepStrictEqual(
            [mm.entries, mm.tableBar, mm.tableOffset, mm.pbaBar, mm.pbaOffset],
            [x.entries, x.tableBar, BigInt(x.tableOffset), x.pbaBar, BigInt(x.pbaOffset)],
          );
        }
        if (exp.capsDenied !== undefined) assert.strictEqual(devs.filter((d) => d.capsDenied).length, exp.capsDenied);
        if (exp.pageSizeSource === 'sriov') assert.strictEqual(m.pageSize?.size, sz(exp.pageSize));
        else assert.strictEqual(m.pageSize, undefined);
      });
    });
  }
});

describe('importLspci on damaged real dumps (property)', () => {
  it('never throws and always writes parseable text when lines are dropped, cut or garbled', () => {
    const texts = fs
      .readdirSync(RAW_DIR)
      .sort()
      .map((f) => fs.readFileSync(path.join(RAW_DIR, f), 'utf8').split('\n'));
    fc.assert(
      fc.property(
        fc.nat({ max: texts.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'cut', 'garble', 'dup', 'huge'), fc.nat()), { maxLength: 30 }),
        fc.boolean(),
        (which, edits, crlf) => {
          const lines = [...texts[which]];
          for (const [at, op, k] of edits) {
            if (lines.length === 0) break;
            const i = at % lines.length;
            if (op === 'drop') lines.splice(i, 1);
            else if (op === 'cut') lines[i] = lines[i].slice(0, k % (lines[i].length + 1));
            else if (op === 'garble') lines[i] = lines[i].replace(/[0-9a-f]/, '"{#');
            else if (op === 'huge') lines[i] = lines[i].replace(/size=\d+[KMG]?/, 'size=99999999999G').replace(/MaxOffset: [0-9a-f]+/, 'MaxOffset: ffffffffffffffff');
            else lines.splice(i, 0, lines[k % lines.length]);
          }
          const r = importLspci(lines.join(crlf ? '\r\n' : '\n'));
          const p = parse(r.text);
          assert.deepStrictEqual(p.errors, [], r.text);
          // Nothing the checker rejects as malformed, and no repeated BAR or region line (those become comments).
          const text = r.text;
          const rejected = analyze(text).diagnostics.filter((d) => d.rule === 'syntax' || (d.rule === 'duplicate' && !/[{}]/.test(text.slice(text.lastIndexOf('\n', d.span.start) + 1, text.indexOf('\n', d.span.start)))));
          assert.deepStrictEqual(rejected.map((d) => d.message), [], r.text);
          assert.strictEqual(p.file.devices.length, r.devices);
          assert.strictEqual(totalBars(p.file), r.bars);
        },
      ),
      { numRuns: 300, seed: 20240501 },
    );
  });
});

// ---------------------------------------------------------------------------
// Format variants (FORMATS.md), small inline snippets

const NVME = [
  '01:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller SM981/PM981/PM983 [144d:a808] (prog-if 02 [NVM Express])',
  '\tSubsystem: Samsung Electronics Co Ltd SSD 970 EVO/PM983 [144d:a801]',
  '\tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx+',
  '\tIOMMU group: 14',
  '\tRegion 0: Memory at f7100000 (64-bit, non-prefetchable) [size=16K]',
  '\tCapabilities: [b0] MSI-X: Enable+ Count=33 Masked-',
  '\t\tVector table: BAR=0 offset=00003000',
  '\t\tPBA: BAR=0 offset=00002000',
  '\tKernel driver in use: nvme',
].join('\n');

function only(text: string): { r: ReturnType<typeof importLspci>; p: Parsed; d: DeviceNode } {
  const r = importLspci(text);
  const p = parseOk(r.text, 'snippet');
  assert.strictEqual(p.file.devices.length, 1, r.text);
  return { r, p, d: p.file.devices[0] };
}

describe('importLspci format variants', () => {
  it('turns a statement a corrupted dump makes malformed into a comment that says why (a size past 64 bits)', () => {
    const text = [
      '01:00.0 Ethernet controller [0200]: Intel Corporation Ethernet Controller X710 [8086:1572]',
      '\tIOMMU group: 3',
      '\tRegion 0: Memory at d1920000 (64-bit, non-prefetchable) [size=99999999999G]',
      '\tRegion 3: Memory at d1a00000 (64-bit, prefetchable) [size=32K]',
      '\tCapabilities: [160 v1] Single Root I/O Virtualization (SR-IOV)',
      '\t\tInitial VFs: 4, Total VFs: 4, Number of VFs: 4, Function Dependency Link: 00',
      '\t\tSystem page size: Supported: 00000553, Current: 00000001',
      '\t\tRegion 0: Memory at 0000000030018000 (64-bit, non-prefetchable)',
      '\t\tRegion 0: Memory at 0000000030018000 (64-bit, non-prefetchable)',
      '[  705.776208] pci 0000:01:00.0: VF(n) BAR0 space: [mem 0x30018000-0x30057fff 64bit] (contains BAR0 for 4 VFs)',
    ].join('\n');
    const r = importLspci(text);
    const diags = analyze(r.text).diagnostics;
    assert.deepStrictEqual(diags.filter((d) => d.rule === 'syntax' || d.rule === 'duplicate').map((d) => d.message), [], r.text);
    assert.match(r.text, /# not imported \(.*does not fit in 64 bits.*\): bar 0 mem64 size 99999999999G/, r.text);
    // The good BAR stays a statement.
    assert.match(r.text, /\n {2}bar 3 mem64 prefetch size 32K at 0xd1a00000/, r.text);
  });


  it('reads a plain -vvnn block: class-based name, group, name, id, BAR, MSI-X', () => {
    const { r, d } = only(NVME);
    assert.strictEqual(d.name?.value, 'nvme_01_00_0');
    assert.strictEqual(formatPci(d.pci!.value), '0000:01:00.0');
    assert.strictEqual(d.groups[0].value, 14n);
    assert.strictEqual(d.label?.value, 'Samsung Electronics Co Ltd NVMe SSD Controller SM981/PM981/PM983');
    assert.strictEqual(d.id?.value, '144d:a808');
    assert.strictEqual(barOf(d, 0)?.size?.value, 16384n);
    assert.strictEqual(barOf(d, 0)?.address?.value, 0xf7100000n);
    assert.strictEqual(barOf(d, 0)?.kind, 'mem64');
    assert.strictEqual(d.msix[0].entries?.value, 33n);
    assert.strictEqual(d.msix[0].tableOffset?.value, 0x3000n);
    assert.strictEqual(d.msix[0].pbaOffset?.value, 0x2000n);
    assert.deepStrictEqual([r.devices, r.bars, r.warnings.length], [1, 1, 0]);
  });

  it('reads a header line with a run of 1,000,000 blanks in its class or description, and splits it as without', () => {
    // The header regexes that began with `\s*` were tried at every blank of a run (40,000 spaces: 7 s): this would hang.
    const pad = ' '.repeat(1_000_000);
    const d = parseLspci(`01:00.0 Ethernet controller${pad}[0200]: Intel${pad}X710${pad}[8086:1572]${pad}(rev 02)${pad}\n`).devices[0];
    assert.deepStrictEqual([d.className, d.classCode, d.ids, d.rev], ['Ethernet controller', 0x0200, { vendor: '8086', device: '1572' }, '02']);
    assert.strictEqual(d.name.replace(/ +/g, ' '), 'Intel X710');
    const e = parseLspci(`00:1f.2 SATA controller [0106]: Intel AHCI [8086:a102] (rev 31) (prog-if 01 [AHCI 1.0])\n`).devices[0];
    assert.deepStrictEqual([e.className, e.classCode, e.name, e.ids, e.rev, e.progIf], ['SATA controller', 0x0106, 'Intel AHCI', { vendor: '8086', device: 'a102' }, '31', '01 [AHCI 1.0]']);
  });

  it('accepts tabs, 4/5/8/16 spaces and non-breaking spaces alike', () => {
    const base = parseLspci(NVME).devices[0];
    for (const indent of ['    ', '     ', '        ', ' \u00a0\u00a0 \u00a0 ']) {
      const text = NVME.replace(/\t/g, indent);
      const d = parseLspci(text).devices[0];
      assert.deepStrictEqual(d.bars.map((b) => [b.index, b.kind, b.size, b.address]), base.bars.map((b) => [b.index, b.kind, b.size, b.address]), JSON.stringify(indent));
      assert.deepStrictEqual(d.msix && [d.msix.entries, d.msix.tableOffset], [33, 0x3000n]);
      assert.strictEqual(d.group, 14);
      only(text);
    }
  });

  it('reads CRLF line endings and e-mail quote prefixes', () => {
    const { d } = only(
      NVME.split('\n')
        .map((l) => '> ' + l)
        .join('\r\n'),
    );
    assert.strictEqual(barOf(d, 0)?.address?.value, 0xf7100000n);
    assert.strictEqual(d.msix.length, 1);
  });

  it('finds a PF\'s VFs present in the listing by routing ID, with few or with 65,535 possible VFs', () => {
    const pf = (total: number, offset: number, stride: number): string[] => [
      '01:00.0 Ethernet controller: Example NIC',
      '\tRegion 0: Memory at 10000000 (64-bit, non-prefetchable) [size=1M]',
      '\tCapabilities: [200 v1] Single Root I/O Virtualization (SR-IOV)',
      `\t\tInitial VFs: ${total}, Total VFs: ${total}, Number of VFs: 2, Function Dependency Link: 00`,
      `\t\tVF offset: ${offset}, stride: ${stride}, Device ID: 1234`,
      '\t\tRegion 0: Memory at 0000000020000000 (64-bit, prefetchable)',
    ];
    const vf = (addr: string, at: string): string[] => [`${addr} Ethernet controller: Example NIC Virtual Function`, `\tRegion 0: Memory at ${at} (64-bit, prefetchable) [virtual] [size=16K]`];
    // VF k has routing ID 0x100 + offset + k*stride. 2 VFs (fewer than the listing's 3 functions: each VF is looked
    // up), offset 1, stride 2: VF 0 = 01:00.1, VF 1 = 01:00.3.
    const few = importLspci([...pf(2, 1, 2), ...vf('01:00.1', '20000000'), ...vf('01:00.3', '20004000')].join('\n'));
    assert.match(few.text, /This function is VF 0 of 0000:01:00\.0/);
    assert.match(few.text, /This function is VF 1 of 0000:01:00\.0/);
    assert.match(few.text, /VF 0000:01:00\.1 \(VF 0\) in this listing: its BAR0 is 16K at 0x20000000/);
    // 65,535 possible VFs (more than the listing's functions: each function is tested), offset 8, stride 2: VF 3 is 0x100 + 8 + 6 = 0x10e = 01:01.6, at 0x20000000 + 3 x 16K.
    const many = importLspci([...pf(65535, 8, 2), ...vf('01:01.6', '2000c000'), ...vf('01:01.5', '20010000')].join('\n'));
    assert.match(many.text, /This function is VF 3 of 0000:01:00\.0/);
    assert.match(many.text, /VF 0000:01:01\.6 \(VF 3\) in this listing: its BAR0 is 16K at 0x2000c000/);
    assert.doesNotMatch(many.text, /01:01\.5.*\n.*This function is VF/, 'an odd routing ID is no VF of stride 2');
    assert.strictEqual(many.text.match(/This function is VF/g)?.length, 1, many.text);
  });

  it('keeps [virtual], [disabled] and [enhanced] BARs and explains them in comments', () => {
    const text = [
      'b1:00.2 Ethernet controller: Mellanox Technologies ConnectX Family mlx5Gen Virtual Function',
      '\tRegion 0: Memory at e0800000 (64-bit, prefetchable) [virtual] [size=1M]',
      '0000:00:01.0 Ethernet controller: Freescale Semiconductor Inc Device ef00 (rev 01) (prog-if 01)',
      '        Region 0: Memory at 1f81d0000 (32-bit, non-prefetchable) [disabled] [enhanced] [size=64K]',
    ].join('\n');
    const r = importLspci(text);
    const p = parseOk(r.text, 'flags');
    const vf = dev(p, '0000:b1:00.2', 'flags');
    assert.deepStrictEqual([barOf(vf, 0)?.size?.value, barOf(vf, 0)?.address?.value, barOf(vf, 0)?.prefetch], [1n << 20n, 0xe0800000n, true]);
    const ea = dev(p, '0000:00:01.0', 'flags');
    assert.deepStrictEqual([barOf(ea, 0)?.kind, barOf(ea, 0)?.address?.value], ['mem32', 0x1f81d0000n]);
    assert.match(r.text, /# BAR 0 is \[virtual\]/);
    assert.match(r.text, /# BAR 0 is \[disabled\]/);
    assert.match(r.text, /# BAR 0 is \[enhanced\]/);
    const m = parseLspci(text);
    assert.deepStrictEqual(m.devices[0].bars[0].flags, ['virtual']);
    assert.deepStrictEqual(m.devices[1].bars[0].flags, ['disabled', 'enhanced']);
  });

  it('writes a [disabled] expansion ROM with a comment that says so (the README: no flag is dropped silently)', () => {
    const text = ['02:00.0 VGA compatible controller: Some GPU', '\tExpansion ROM at f3000000 [disabled] [size=128K]'].join('\n');
    const r = importLspci(text);
    const p = parseOk(r.text, 'rom');
    const d = dev(p, '0000:02:00.0', 'rom');
    assert.deepStrictEqual([d.roms[0]?.size?.value, d.roms[0]?.address?.value], [128n << 10n, 0xf3000000n]);
    assert.match(r.text, /# Expansion ROM is \[disabled\]: its decoding is off until the ROM is read/);
    // An enabled ROM gets no such comment.
    assert.doesNotMatch(importLspci(text.replace(' [disabled]', '')).text, /Expansion ROM is \[disabled\]/);
  });

  it('keeps a "32-bit" BAR printed above 4 GiB as mem32, with a comment (pseries / EA CPU addresses)', () => {
    const text = ['00:08.0 Ethernet controller: Red Hat, Inc. Virtio network device (rev 01)', '\tRegion 1: Memory at 200080020000 (32-bit, non-prefetchable) [size=4K]'].join('\n');
    const { r, d } = only(text);
    assert.strictEqual(barOf(d, 1)?.kind, 'mem32');
    assert.strictEqual(barOf(d, 1)?.address?.value, 0x200080020000n);
    assert.match(r.text, /# BAR 1 is "32-bit" but lspci shows the CPU address 0x200080020000, above 4 GiB/);
  });

  it('writes <unassigned>/<ignored> BARs without `at`, or as a comment when no size is printed', () => {
    const text = [
      '00:00.0 PCI bridge: Texas Instruments Device b010 (prog-if 00 [Normal decode])',
      '\tRegion 0: Memory at <unassigned> (64-bit, prefetchable) [disabled]',
      '\tRegion 2: Memory at <unassigned> (32-bit, non-prefetchable) [size=1M]',
      '\tRegion 4: I/O ports at <ignored> [disabled]',
    ].join('\n');
    const { r, d } = only(text);
    assert.strictEqual(barOf(d, 0), undefined);
    assert.strictEqual(barOf(d, 4), undefined);
    assert.strictEqual(barOf(d, 2)?.size?.value, 1n << 20n);
    assert.strictEqual(barOf(d, 2)?.address, undefined);
    assert.match(r.text, /# bar 0 mem64 prefetch size \? +— not written: the BAR has no address and lspci printed no size \(line 2\)/);
    assert.match(r.text, /# bar 4 io size \?/);
    const m = parseLspci(text).devices[0];
    assert.deepStrictEqual(
      m.bars.map((b) => [b.index, b.size, b.address, b.flags]),
      [
        [0, undefined, undefined, ['unassigned', 'disabled']],
        [2, 1n << 20n, undefined, ['unassigned']],
        [4, undefined, undefined, ['ignored', 'disabled']],
      ],
    );
  });

  it('lspci -b (no sizes): no bar statements, every BAR and the ROM as comments', () => {
    const text = fs.readFileSync(path.join(RAW_DIR, 'arm64-rk3566-radeon-lspci-b-bus-view-before.txt'), 'utf8');
    const r = importLspci(text);
    const p = parseOk(r.text, '-b');
    assert.strictEqual(r.bars, 0);
    assert.strictEqual(totalBars(p.file), 0);
    assert.match(r.text, /# bar 0 mem64 prefetch size \? at 0x40000000 +— not written/);
    assert.match(r.text, /# bar 4 io size \? at 0x7f701000/);
    assert.match(r.text, /# rom size \? at 0x50020000/);
    assert.match(r.text, /lspci -b\?/);
  });

  it('Capabilities: <access denied> → "MSI-X/SR-IOV unknown" comment, no msix', () => {
    const text = [
      '00:12.2 USB controller: Advanced Micro Devices, Inc. [AMD/ATI] SB7x0/SB8x0/SB9x0 USB EHCI Controller (prog-if 20 [EHCI])',
      '        IOMMU group: 4',
      '        Region 0: Memory at fe409000 (32-bit, non-prefetchable) [size=256]',
      '        Capabilities: <access denied>',
    ].join('\n');
    const { r, d } = only(text);
    assert.strictEqual(d.msix.length, 0);
    assert.match(r.text, /# Capabilities: <access denied> — MSI-X\/SR-IOV unknown: lspci ran without root/);
    assert.strictEqual(parseLspci(text).devices[0].capsDenied, true);
    assert.doesNotMatch(importLspci(NVME).text, /access denied/);
  });

  it('does not take hex dump lines (`00: …`) for device headers, and decodes MSI-X from them', () => {
    const text = fs.readFileSync(path.join(RAW_DIR, 'arm64-kunpeng920-centos7-hi1822-lspci-xxx-configspace.txt'), 'utf8');
    const m = parseLspci(text);
    assert.strictEqual(m.devices.length, 1);
    assert.strictEqual(m.devices[0].config?.length, 256);
    assert.strictEqual(m.devices[0].msix?.source, 'config-dump');
    const r = importLspci(text);
    assert.strictEqual(r.devices, 1);
    assert.match(r.text, /BAR0 register = 0x80007b00000 \(mem64, prefetchable/);
    // The same dump after a full block: still one device, and the text's MSI-X wins.
    const two = importLspci(NVME + '\n' + text.split('\n').slice(1).join('\n'));
    assert.strictEqual(two.devices, 1);
    assert.strictEqual(parseLspci(NVME + '\n00: 4d 14 08 a8 06 04 10 00 00 02 08 01 00 00 00 00').devices[0].msix?.entries, 33);
  });

  it('derives a 64K page from SR-IOV System Page Size: 00000010, 4K from 00000001, and lets opts.pageSize win', () => {
    const sriov = (mask: string): string =>
      [
        '0000:01:00.0 Ethernet controller: Mellanox Technologies MT27710 Family [ConnectX-4 Lx]',
        '\tRegion 0: Memory at 10100000000 (64-bit, prefetchable) [size=32M]',
        '\tCapabilities: [180 v1] Single Root I/O Virtualization (SR-IOV)',
        '\t\tInitial VFs: 8, Total VFs: 8, Number of VFs: 0, Function Dependency Link: 00',
        '\t\tVF offset: 2, stride: 1, Device ID: 1016',
        `\t\tSupported Page Size: 000007ff, System Page Size: ${mask}`,
        '\t\tRegion 0: Memory at 0000010104000000 (64-bit, prefetchable)',
        '\t\tVF Migration: offset: 00000000, BIR: 0',
      ].join('\n');
    const page = (text: string, opts = {}): bigint | undefined => parseOk(importLspci(text, opts).text, 'page').file.hosts[0].pageSize?.value;
    assert.strictEqual(page(sriov('00000010')), 65536n);
    assert.strictEqual(page(sriov('00000004')), 16384n);
    assert.strictEqual(page(sriov('00000001')), 4096n);
    assert.strictEqual(page(sriov('00000010'), { pageSize: 4096n }), 4096n);
    assert.match(importLspci(sriov('00000010'), { pageSize: 4096n }).text, /the input suggests 64K/);
    assert.strictEqual(page(NVME), 4096n);
    assert.match(importLspci(NVME).text, /Page size 4K assumed/);
    assert.strictEqual(page(NVME, { pageSize: 16384n }), 16384n);
    // A bad option is reported, not written.
    const bad = importLspci(NVME, { pageSize: 1000n });
    assert.strictEqual(bad.warnings.length, 1);
    assert.strictEqual(page(NVME, { pageSize: 1000n }), 4096n);
    // VF BAR sizes are not printed: the VF BAR is a comment, no sriov statement.
    const r = importLspci(sriov('00000010'));
    assert.strictEqual(parseOk(r.text, 'vf').file.devices[0].sriovs.length, 0);
    assert.match(r.text, /# +VF bar 0 mem64 prefetch size \? at 0x10104000000/);
  });

  it('sizes VF BARs from a kernel log line in the same input', () => {
    const text = [
      '7d:00.3 Ethernet controller: Huawei Technologies Co., Ltd. HNS GE/10GE/25GE Network Controller (rev 21)',
      '        Region 0: Memory at 1210c0000 (64-bit, prefetchable) [size=64K]',
      '        Capabilities: [200 v1] Single Root I/O Virtualization (SR-IOV)',
      '                Initial VFs: 3, Total VFs: 3, Number of VFs: 0, Function Dependency Link: 00',
      '                Region 0: Memory at 00000001210d0000 (64-bit, prefetchable)',
      '[  705.776208] pci 0000:7d:00.3: VF(n) BAR0 space: [mem 0x1210d0000-0x1210fffff 64bit pref] (contains BAR0 for 3 VFs)',
    ].join('\n');
    const { d } = only(text);
    assert.strictEqual(d.sriovs[0].vfs?.value, 3n);
    assert.deepStrictEqual([d.sriovs[0].bars[0].size?.value, d.sriovs[0].bars[0].address?.value], [0x10000n, 0x1210d0000n]);
  });

  it('treats an all-zero VF BAR address as unassigned, and an indented address-like line as no header', () => {
    const text = [
      '06:00.0 Ethernet controller: Example Corp Device 1234',
      '\tRegion 0: Memory at f0000000 (64-bit, prefetchable) [size=1M]',
      '\tCapabilities: [160 v1] Single Root I/O Virtualization (SR-IOV)',
      '\t\tInitial VFs: 4, Total VFs: 4, Number of VFs: 0, Function Dependency Link: 00',
      '\t\tRegion 0: Memory at 0000000000000000 (64-bit, prefetchable)',
      '\t\t01:23.4 is not a header here',
      '\tKernel driver in use: foo',
    ].join('\n');
    const m = parseLspci(text);
    assert.strictEqual(m.devices.length, 1);
    const vf = m.devices[0].sriov!.bars[0];
    assert.deepStrictEqual([vf.index, vf.address, vf.flags.includes('unassigned')], [0, undefined, true]);
    const r = importLspci(text);
    assert.match(r.text, /# +VF bar 0 mem64 prefetch size \? \(unassigned\)/);
    parseOk(r.text, 'vf0');
  });

  it('keeps 13-digit and above-2^53 addresses exact (bigint)', () => {
    const text = [
      '0000:01:00.0 VGA compatible controller: Advanced Micro Devices, Inc. [AMD/ATI] RV516 [Radeon X1300/X1550 Series] (prog-if 00 [VGA controller])',
      '        Region 0: Memory at 6000000000000 (64-bit, prefetchable) [size=256M]',
      '        Region 2: Memory at 2100000000020000 (64-bit, non-prefetchable) [size=64K]',
      '        Expansion ROM at 600c000000000 [disabled] [size=128K]',
    ].join('\n');
    const { d } = only(text);
    assert.strictEqual(barOf(d, 0)?.address?.value, 0x6000000000000n);
    assert.strictEqual(barOf(d, 2)?.address?.value, 0x2100000000020000n);
    assert.ok(0x2100000000020000n > BigInt(Number.MAX_SAFE_INTEGER));
    assert.strictEqual(d.roms[0].address?.value, 0x600c000000000n);
    assert.strictEqual(parseLspci(text).devices[0].bars[1].address, 0x2100000000020000n);
  });

  it('leaves out the MSI-X statement of a BAR it leaves out, warns about both, and the file checks without errors', () => {
    // A size past 64 bits: the BAR line is rejected by the checker, so the MSI-X table and PBA in it name no BAR.
    const text = ['01:00.0 Ethernet controller: Acme NIC', '\tRegion 0: Memory at 80000000 (64-bit, prefetchable) [size=99999999999999999999G]', '\tCapabilities: [b0] MSI-X: Enable+ Count=64 Masked-', '\t\tVector table: BAR=0 offset=00002000', '\t\tPBA: BAR=0 offset=00003000'].join('\n');
    const r = importLspci(text);
    assert.deepStrictEqual(analyze(r.text).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], r.text);
    assert.match(r.text, /\n {2}# not imported \(.*MSI-X table names BAR 0.*\): msix entries 64 table bar 0 offset 0x2000 pba bar 0 offset 0x3000\n/, r.text);
    const left = r.warnings.filter((w) => / not imported: /.test(w.message));
    assert.deepStrictEqual(
      left.map((w) => [w.line, w.message.split(' not imported: ')[0]]),
      [
        [0, 'device eth_01_00_0: `bar 0 mem64 prefetch size 99999999999999999999G at 0x80000000`'],
        [0, 'device eth_01_00_0: `msix entries 64 table bar 0 offset 0x2000 pba bar 0 offset 0x3000`'],
      ],
    );
  });

  it('reads a Region line whose words are separated by more than one space', () => {
    const { d } = only(['01:00.0 Ethernet controller: Acme NIC', '\tRegion 0:  Memory  at 80000000 (64-bit, prefetchable)  [size=64K]', '\tRegion 2: I/O  ports  at e000 [size=32]'].join('\n'));
    assert.deepStrictEqual(
      d.bars.map((b) => [b.index?.value, b.kind, b.prefetch, b.size?.value, b.address?.value]),
      [
        [0, 'mem64', true, 65536n, 0x80000000n],
        [2, 'io', false, 32n, 0xe000n],
      ],
    );
  });

  it('warns about a Region line it cannot parse, with its line number, and comments it', () => {
    const text = ['01:00.0 Ethernet controller: Example Corp Device 1234', '\tControl: I/O- Mem+', '\tRegion 0: Memory at zz12 (32-bit, non-prefetchable) [size=4K]', '\tRegion 9: Memory at f0000000 (32-bit, non-prefetchable) [size=4K]', '\tRegion 2: Memory at f0001000 (32-bit, non-prefetchable) [size=4K]'].join('\n');
    const { r, d } = only(text);
    assert.deepStrictEqual(
      r.warnings.map((w) => w.line),
      [3, 4],
    );
    assert.match(r.warnings[0].message, /zz12/);
    assert.match(r.text, /# line 3 not imported/);
    assert.match(r.text, /# line 4 not imported/);
    assert.deepStrictEqual(d.bars.map((b) => b.index?.value), [2]);
  });

  it('warns when nothing is recognisable, and still writes a valid file', () => {
    for (const text of ['', 'hello world\nthis is not lspci\n', '$ lspci -vvv\nbash: lspci: command not found\n']) {
      const r = importLspci(text);
      const p = parseOk(r.text, JSON.stringify(text));
      assert.strictEqual(p.file.devices.length, 0);
      assert.strictEqual(r.devices, 0);
      assert.strictEqual(r.warnings.length, 1, JSON.stringify(text));
      assert.match(r.warnings[0].message, /no lspci device header/);
      assert.match(r.text, /# No devices/);
    }
    assert.strictEqual(importLspci('hello world\n').warnings[0].line, 1);
    assert.strictEqual(importLspci('\n\nhello\n').warnings[0].line, 3);
  });

  it('puts Region lines without a header into unknown_N devices at ffff:ff:1f.7 downwards', () => {
    const text = [
      '        Region 0: Memory at e0045240000 (64-bit, non-prefetchable) [size=32K]',
      '        Region 0: Memory at e0045290000 (64-bit, non-prefetchable) [size=256]',
      '        Region 2: Memory at e0040000000 (64-bit, non-prefetchable) [size=64M]',
    ].join('\n');
    const r = importLspci(text);
    const p = parseOk(r.text, 'fragment');
    assert.deepStrictEqual(
      p.file.devices.map((d) => [d.name?.value, formatPci(d.pci!.value), d.bars.map((b) => b.index?.value)]),
      [
        ['unknown_0', 'ffff:ff:1f.7', [0]],
        ['unknown_1', 'ffff:ff:1f.6', [0, 2]],
      ],
    );
    assert.match(r.text, /header line is missing/);
  });

  it('ignores prompts, stderr and literal "..." lines, noting them', () => {
    const text = ['[root@localhost ~]# lspci -vvv -s 01:00.0', 'lspci: Unable to load libkmod resources: error -12', NVME.split('\n')[0], '        ...', NVME.split('\n').slice(1).join('\n')].join('\n');
    const { r, d } = only(text);
    assert.strictEqual(barOf(d, 0)?.size?.value, 16384n);
    assert.match(r.text, /#   line 1: \[root@localhost ~\]# lspci -vvv -s 01:00.0/);
    assert.match(r.text, /#   line 2: lspci: Unable to load libkmod/);
    assert.match(r.text, /lines were elided in the source \("\.\.\." at line 4\)/);
    // Many `...` lines in one device: one note, five line numbers and a count (lines 2-9 here).
    const many = [NVME.split('\n')[0], ...Array.from({ length: 8 }, () => '        ...'), NVME.split('\n').slice(1).join('\n')].join('\n');
    const m = only(many);
    assert.strictEqual(m.r.text.match(/lines were elided/g)?.length, 1, m.r.text);
    assert.match(m.r.text, /lines were elided in the source \("\.\.\." at lines 2, 3, 4, 5, 6 and 3 more\)/);
  });

  it('escapes quotes and backslashes in names and keeps names unique and valid', () => {
    const text = [
      '0524:28:00.0 Non-Volatile memory controller: KIOXIA Corporation NVMe SSD Controller CM7 2.5" (rev 01)',
      '0524:28:00.1 Non-Volatile memory controller: Odd \\ Vendor "X" (rev 01)',
      '01:00.0 Weird class: no class mapping',
      '0001:01:00.0 Weird class: no class mapping',
    ].join('\n');
    const r = importLspci(text);
    const p = parseOk(r.text, 'names');
    const labels = p.file.devices.map((d) => d.label?.value);
    assert.deepStrictEqual(labels.slice(0, 2), ['KIOXIA Corporation NVMe SSD Controller CM7 2.5"', 'Odd \\ Vendor "X"']);
    const names = p.file.devices.map((d) => d.name!.value);
    assert.deepStrictEqual(names, ['nvme_0524_28_00_0', 'nvme_0524_28_00_1', 'dev_01_00_0', 'dev_0001_01_00_0']);
    for (const n of names) assert.match(n, /^[A-Za-z_][A-Za-z0-9_-]*$/);
  });

  it('reads the old MSI-X wording (TabSize=) and the `lspci -v` form without Region N:', () => {
    const text = [
      '02:00.0 Ethernet controller: Intel Corporation 82576 Gigabit Network Connection (rev 01)',
      '\tFlags: bus master, fast devsel, latency 0, IRQ 16, NUMA node 0, IOMMU group 53',
      '\tMemory at 92400000 (64-bit, prefetchable) [size=64K]',
      '\tI/O ports at 3000 [size=32]',
      '\tMemory at 92410000 (32-bit, non-prefetchable) [size=16K]',
      '\tCapabilities: [b0] MSI-X: Enable- Mask- TabSize=2',
      '\t\tVector table: BAR=3 offset=00000000',
      '\t\tPBA: BAR=3 offset=00002000',
    ].join('\n');
    const { r, d } = only(text);
    assert.strictEqual(d.groups[0].value, 53n);
    assert.deepStrictEqual(
      d.bars.map((b) => [b.index?.value, b.kind]),
      [
        [0, 'mem64'],
        [2, 'io'],
        [3, 'mem32'],
      ],
    );
    assert.match(r.text, /index inferred/);
    assert.strictEqual(d.msix[0].entries?.value, 2n);
    assert.strictEqual(d.msix[0].tableBar?.value, 3);
  });

  it('flags truncated input and a cut MSI-X capability', () => {
    const text = NVME.split('\n').slice(0, 6).join('\n');
    const r = importLspci(text);
    const p = parseOk(r.text, 'cut');
    assert.strictEqual(p.file.devices[0].msix.length, 0);
    assert.match(r.text, /# MSI-X capability \(line 6, Enable\+\) is incomplete/);
    assert.match(r.text, /appears truncated/);
    assert.strictEqual(parseLspci(text).truncated?.line, 6);
    assert.strictEqual(parseLspci(NVME).truncated, undefined);
  });

  it('writes the second listing of one function as comments and warns', () => {
    const r = importLspci(NVME + '\n\n' + NVME);
    const p = parseOk(r.text, 'dup');
    assert.strictEqual(p.file.devices.length, 1);
    assert.strictEqual(r.devices, 1);
    assert.deepStrictEqual(r.warnings.map((w) => w.line), [11]);
  });

  it('reads the `IOMMU Group N :` listing format', () => {
    const text = ['  *IOMMU Group 11 :', '\tb1:00.0 Ethernet controller: Mellanox Technologies MT2910 Family [ConnectX-7]', '\tb1:00.2 Ethernet controller: Mellanox Technologies ConnectX Family mlx5Gen Virtual Function', '  *IOMMU Group 12 :', '\tb1:00.1 Ethernet controller: Mellanox Technologies MT2910 Family [ConnectX-7]'].join('\n');
    const p = parseOk(importLspci(text).text, 'groups');
    assert.deepStrictEqual(
      p.file.devices.map((d) => [formatPci(d.pci!.value), d.groups[0]?.value]),
      [
        ['0000:b1:00.0', 11n],
        ['0000:b1:00.2', 11n],
        ['0000:b1:00.1', 12n],
      ],
    );
  });
});
