import * as assert from 'assert';
import { analyze } from '../server/src/engine/analyze';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from '../server/src/engine/parser';
import { DeviceNode } from '../server/src/engine/ast';
import { formatPci } from '../server/src/engine/values';
import { importSysfs, readSysfs } from '../server/src/import/sysfs';
import { msixFromConfig } from '../server/src/import/emit';

// A fake sysfs tree in a temp dir, shaped like the kernel's:
//   ROOT/sys/bus/pci/devices/<BDF> -> ../../../devices/pci0000:00/<BDF>

const hex16 = (v: bigint): string => '0x' + v.toString(16).padStart(16, '0');
const line = (start: bigint, end: bigint, flags: bigint): string => `${hex16(start)} ${hex16(end)} ${hex16(flags)}`;
const ZERO = line(0n, 0n, 0n);

/** Config space with a capability chain: PCIe cap (0x10) at 0x60 → MSI-X (0x11) at 0x9c. */
function configWithMsix(len: number, ctrl: number, table: number, pba: number): Buffer {
  const c = Buffer.alloc(len);
  c.writeUInt16LE(0x15b3, 0);
  c.writeUInt16LE(0x1015, 2);
  c.writeUInt16LE(0x0010, 6); // status: capability list
  c[0x0e] = 0x00; // header type 0
  c[0x34] = 0x60;
  if (len > 0x60) {
    c[0x60] = 0x10;
    c[0x61] = 0x9c;
  }
  if (len >= 0x9c + 12) {
    c[0x9c] = 0x11;
    c[0x9d] = 0x00;
    c.writeUInt16LE(ctrl, 0x9e);
    c.writeUInt32LE(table >>> 0, 0xa0);
    c.writeUInt32LE(pba >>> 0, 0xa4);
  }
  return c;
}

interface FakeDev {
  bdf: string;
  resource: string[];
  group?: number;
  vendor?: string;
  device?: string;
  cls?: string;
  totalvfs?: number;
  numvfs?: number;
  config?: Buffer;
}

function makeTree(devs: FakeDev[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bartopo-sysfs-'));
  const devices = path.join(root, 'sys', 'bus', 'pci', 'devices');
  const real = path.join(root, 'sys', 'devices', 'pci0000:00');
  fs.mkdirSync(devices, { recursive: true });
  fs.mkdirSync(path.join(root, 'sys', 'kernel', 'iommu_groups'), { recursive: true });
  for (const d of devs) {
    const dir = path.join(real, d.bdf);
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(path.join('..', '..', '..', 'devices', 'pci0000:00', d.bdf), path.join(devices, d.bdf));
    fs.writeFileSync(path.join(dir, 'resource'), d.resource.join('\n') + '\n');
    if (d.group !== undefined) {
      fs.mkdirSync(path.join(root, 'sys', 'kernel', 'iommu_groups', String(d.group), 'devices'), { recursive: true });
      fs.symlinkSync(path.join('..', '..', '..', 'kernel', 'iommu_groups', String(d.group)), path.join(dir, 'iommu_group'));
    }
    if (d.vendor) fs.writeFileSync(path.join(dir, 'vendor'), d.vendor + '\n');
    if (d.device) fs.writeFileSync(path.join(dir, 'device'), d.device + '\n');
    if (d.cls) fs.writeFileSync(path.join(dir, 'class'), d.cls + '\n');
    if (d.totalvfs !== undefined) fs.writeFileSync(path.join(dir, 'sriov_totalvfs'), `${d.totalvfs}\n`);
    if (d.numvfs !== undefined) fs.writeFileSync(path.join(dir, 'sriov_numvfs'), `${d.numvfs}\n`);
    if (d.config) fs.writeFileSync(path.join(dir, 'config'), d.config);
  }
  return root;
}

// ConnectX-4 Lx-like PF: 32M 64-bit prefetchable BAR0, plus a 32-bit BAR2, an I/O BAR4, a ROM, 8 VFs of 16K.
const NIC: FakeDev = {
  bdf: '0000:01:00.0',
  resource: [
    line(0x6000000000n, 0x6001ffffffn, 0x14220cn), // 0: mem64 pref 32M
    ZERO, // 1: upper half of BAR0
    line(0xfb000000n, 0xfb003fffn, 0x40200n), // 2: mem32 16K
    ZERO,
    line(0xe000n, 0xe01fn, 0x40101n), // 4: I/O 32
    ZERO,
    line(0xf7000000n, 0xf707ffffn, 0x46200n), // 6: ROM 512K
    line(0x6002000000n, 0x600201ffffn, 0x14220cn), // 7: VF BAR0, 8 VFs × 16K
    ZERO,
    ZERO,
    ZERO,
    ZERO,
    ZERO,
    ZERO,
    ZERO,
    ZERO,
    ZERO, // 13-16 bridge windows (none)
  ],
  group: 27,
  vendor: '0x15b3',
  device: '0x1015',
  cls: '0x020000',
  totalvfs: 8,
  numvfs: 2,
  config: configWithMsix(4096, 0x803f, 0x00002000, 0x00003000),
};

// Audio function read without root: only 64 bytes of config; a kernel without CONFIG_PCI_IOV (11 lines);
// BAR4 unset (no address).
const AUDIO: FakeDev = {
  bdf: '0000:00:1f.3',
  resource: [
    line(0x81810000n, 0x81813fffn, 0x140204n), // 0: mem64 16K
    ZERO,
    ZERO,
    ZERO,
    line(0n, 0xfffffn, 0x20140204n), // 4: mem64 1M, IORESOURCE_UNSET
    ZERO,
    ZERO, // 6: no ROM
    ZERO,
    ZERO,
    ZERO,
    ZERO, // 7-10: bridge windows (none)
  ],
  vendor: '0x8086',
  device: '0x06c8',
  cls: '0x040300',
  config: configWithMsix(64, 0, 0, 0),
};

// A PCI bridge: no BARs, windows in lines 13-15.
const BRIDGE: FakeDev = {
  bdf: '0000:00:01.0',
  resource: [
    ...Array<string>(13).fill(ZERO),
    line(0x3000n, 0x3fffn, 0x101n),
    line(0xa0000000n, 0xa01fffffn, 0x200n),
    line(0x4000000000n, 0x40001fffffn, 0x102201n),
    ZERO,
  ],
  group: 1,
  vendor: '0x8086',
  device: '0x1901',
  cls: '0x060400',
};

function devices(text: string): Map<string, DeviceNode> {
  const r = parse(text);
  assert.deepStrictEqual(r.errors.map((e) => e.message), [], text);
  return new Map(r.file.devices.map((d) => [formatPci(d.pci!.value), d]));
}

describe('importSysfs on a fake sysfs tree', () => {
  const roots: string[] = [];
  const tree = (devs: FakeDev[]): string => {
    const r = makeTree(devs);
    roots.push(r);
    return r;
  };
  after(() => {
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });

  it('reads BARs, ROM, IOMMU group, ids, MSI-X from config and VF BARs from resource lines 7-12', () => {
    const root = tree([NIC, AUDIO, BRIDGE]);
    const r = importSysfs(root, { pageSize: 65536n });
    const byPci = devices(r.text);
    assert.strictEqual(r.devices, 3);
    assert.strictEqual(r.bars, 5);
    assert.deepStrictEqual(r.warnings, []);
    assert.deepStrictEqual([...byPci.keys()], ['0000:00:01.0', '0000:00:1f.3', '0000:01:00.0']);
    assert.strictEqual(parse(r.text).file.hosts[0].pageSize?.value, 65536n);

    const nic = byPci.get('0000:01:00.0')!;
    assert.strictEqual(nic.name?.value, 'eth_01_00_0');
    assert.strictEqual(nic.groups[0].value, 27n);
    assert.strictEqual(nic.id?.value, '15b3:1015');
    assert.deepStrictEqual(
      nic.bars.map((b) => [b.index?.value, b.kind, b.prefetch, b.size?.value, b.address?.value]),
      [
        [0, 'mem64', true, 32n << 20n, 0x6000000000n],
        [2, 'mem32', false, 16384n, 0xfb000000n],
        [4, 'io', false, 32n, 0xe000n],
      ],
    );
    assert.deepStrictEqual([nic.roms[0].size?.value, nic.roms[0].address?.value], [512n * 1024n, 0xf7000000n]);
    const m = nic.msix[0];
    assert.deepStrictEqual(
      [m.entries?.value, m.tableBar?.value, m.tableOffset?.value, m.pbaBar?.value, m.pbaOffset?.value],
      [64n, 0, 0x2000n, 0, 0x3000n],
    );
    assert.strictEqual(nic.sriovs[0].vfs?.value, 8n);
    assert.deepStrictEqual(
      nic.sriovs[0].bars.map((b) => [b.index?.value, b.kind, b.prefetch, b.size?.value, b.address?.value]),
      [[0, 'mem64', true, 16384n, 0x6002000000n]],
    );

    const audio = byPci.get('0000:00:1f.3')!;
    assert.strictEqual(audio.name?.value, 'audio_00_1f_3');
    assert.strictEqual(audio.groups.length, 0);
    assert.deepStrictEqual(
      audio.bars.map((b) => [b.index?.value, b.kind, b.size?.value, b.address?.value]),
      [
        [0, 'mem64', 16384n, 0x81810000n],
        [4, 'mem64', 1n << 20n, undefined],
      ],
    );
    assert.strictEqual(audio.msix.length, 0);
    assert.strictEqual(audio.sriovs.length, 0);
    assert.match(r.text, /beyond the 64 bytes of config space available \(read without root\?\): MSI-X unknown/);
    assert.match(r.text, /IORESOURCE_UNSET/);

    const br = byPci.get('0000:00:01.0')!;
    assert.strictEqual(br.name?.value, 'bridge_00_01_0');
    assert.strictEqual(br.bars.length, 0);
    assert.match(r.text, /Bridge windows[^\n]*\n\s*#\s+resource 13: I\/O window 0x3000-0x3fff/);
    assert.match(r.text, /resource 15: prefetchable memory window 0x4000000000-0x40001fffff/);
  });

  it('notes that a function with a physfn link is a VF', () => {
    const vf: FakeDev = { bdf: '0000:01:00.2', resource: [line(0x6002000000n, 0x6002003fffn, 0x14220cn), ...Array<string>(16).fill(ZERO)], cls: '0x020000' };
    const root = tree([NIC, vf]);
    fs.symlinkSync(path.join('..', '0000:01:00.0'), path.join(root, 'sys', 'devices', 'pci0000:00', '0000:01:00.2', 'physfn'));
    const r = importSysfs(root, {});
    assert.match(r.text, /# this function is an SR-IOV VF of 0000:01:00\.0 \(physfn\)/);
    assert.deepStrictEqual(devices(r.text).get('0000:01:00.2')!.bars.map((b) => b.size?.value), [16384n]);
  });

  it('skips an empty resource with flags, and does not write a VF BAR whose aperture is not a whole number of VFs', () => {
    // Line 0: start = end = 0 with the memory flag (not a 1-byte BAR at 0). Line 7: a 4M VF aperture for 3 VFs.
    const odd: FakeDev = {
      bdf: '0000:02:00.0',
      resource: [line(0n, 0n, 0x200n), line(0xfe000000n, 0xfe0000ffn, 0x200n), ...Array<string>(5).fill(ZERO), line(0xfd500000n, 0xfd8fffffn, 0x200n), ...Array<string>(9).fill(ZERO)],
      cls: '0x020000',
      totalvfs: 3,
      numvfs: 0,
    };
    const r = importSysfs(tree([odd]), {});
    const d = devices(r.text).get('0000:02:00.0')!;
    assert.deepStrictEqual(d.bars.map((b) => [b.index?.value, b.size?.value]), [[1, 256n]]);
    assert.strictEqual(d.sriovs.length, 0, r.text);
    assert.match(r.text, /VF BAR 0 resource 0xfd500000-0xfd8fffff \(4M\) is not a multiple of sriov_totalvfs 3: per-VF size unknown, not written/);
    assert.deepStrictEqual(analyze(r.text).diagnostics.filter((x) => x.severity === 'error').map((x) => x.message), []);
  });

  it('notes a resource line that ends before it starts, and writes an SR-IOV capability beyond 65,535 VFs as a comment', () => {
    // Line 0 runs backwards; the device says it supports 65,536 VFs (the language allows 1 to 65,535).
    const odd: FakeDev = {
      bdf: '0000:03:00.0',
      resource: [line(0xfe400000n, 0xfe3fffffn, 0x200n), line(0xfe500000n, 0xfe500fffn, 0x200n), ...Array<string>(5).fill(ZERO), line(0xa_0000_0000n, 0xa_0000_0000n + 65536n * 0x4000n - 1n, 0x200n), ...Array<string>(9).fill(ZERO)],
      cls: '0x020000',
      totalvfs: 65536,
      numvfs: 0,
    };
    const r = importSysfs(tree([odd]), {});
    assert.match(r.text, /# BAR 0 resource 0xfe400000-0xfe3fffff ends before it starts: not a range, not written/);
    assert.match(r.text, /# not imported \(eth_03_00_0: `sriov vfs` is 1 to 65535; 65536 is out of range\.\): sriov vfs 65536 \{/);
    const d = devices(r.text).get('0000:03:00.0')!;
    assert.deepStrictEqual(d.bars.map((b) => b.index?.value), [1]);
    assert.strictEqual(d.sriovs.length, 0);
    assert.deepStrictEqual(analyze(r.text).diagnostics.filter((x) => x.severity === 'error').map((x) => x.message), []);
  });

  it('takes lines 7+ as bridge windows on a kernel without SR-IOV support (11 resource lines)', () => {
    const old: FakeDev = {
      bdf: '0000:00:1c.0',
      resource: [...Array<string>(7).fill(ZERO), line(0x2000n, 0x2fffn, 0x101n), line(0xdf000000n, 0xdf0fffffn, 0x200n), ZERO, ZERO],
      cls: '0x060400',
    };
    const r = importSysfs(tree([old]), {});
    const d = devices(r.text).get('0000:00:1c.0')!;
    assert.strictEqual(d.sriovs.length, 0);
    assert.strictEqual(d.bars.length, 0);
    assert.match(r.text, /resource 7: I\/O window 0x2000-0x2fff/);
    assert.match(r.text, /resource 8: memory window 0xdf000000-0xdf0fffff/);
  });

  it('assumes 4K and says so when no page size is given; rejects a bad one', () => {
    const root = tree([NIC]);
    const r = importSysfs(root, {});
    assert.strictEqual(parse(r.text).file.hosts[0].pageSize?.value, 4096n);
    assert.match(r.text, /Page size 4K assumed/);
    const bad = importSysfs(root, { pageSize: 3000n });
    assert.strictEqual(bad.warnings.length, 1);
    assert.strictEqual(parse(bad.text).file.hosts[0].pageSize?.value, 4096n);
  });

  it('follows the devices/<BDF> symlinks and reads the group from the iommu_group link', () => {
    const root = tree([NIC]);
    const devs = readSysfs(root);
    assert.strictEqual(devs.length, 1);
    assert.ok(fs.lstatSync(path.join(root, 'sys', 'bus', 'pci', 'devices', '0000:01:00.0')).isSymbolicLink());
    assert.strictEqual(devs[0].group, 27);
    assert.strictEqual(devs[0].sriov?.numVfs, 2);
  });

  it('warns about malformed resource lines and odd directory entries, and keeps going', () => {
    const broken: FakeDev = { ...NIC, bdf: '0000:02:00.0', resource: [line(0xfe000000n, 0xfe000fffn, 0x40200n), 'garbage here', ZERO] };
    const root = tree([broken]);
    fs.writeFileSync(path.join(root, 'sys', 'bus', 'pci', 'devices', 'README'), 'not a device');
    const r = importSysfs(root, {});
    assert.strictEqual(r.warnings.length, 2);
    assert.ok(r.warnings.some((w) => /resource line 2/.test(w.message)));
    assert.ok(r.warnings.some((w) => /README/.test(w.message)));
    const d = devices(r.text).get('0000:02:00.0')!;
    assert.deepStrictEqual(d.bars.map((b) => [b.index?.value, b.size?.value]), [[0, 4096n]]);
  });

  it('leaves out an MSI-X capability in a BAR it leaves out (a BAR in the upper slot of a 64-bit one) and warns, without a line number', () => {
    const odd: FakeDev = {
      bdf: '0000:02:00.0',
      resource: [line(0xf0000000n, 0xf000ffffn, 0x140204n), line(0xf0100000n, 0xf0103fffn, 0x40200n), ...Array<string>(9).fill(ZERO)],
      group: 9,
      config: configWithMsix(4096, 0x8003, 0x00000001, 0x00000801), // 4 entries; table and PBA in BAR 1
    };
    const r = importSysfs(tree([odd]), {});
    assert.deepStrictEqual(analyze(r.text).diagnostics.filter((x) => x.severity === 'error').map((x) => x.message), [], r.text);
    assert.match(r.text, /\n {2}# not imported \(.*\): msix entries 4 table bar 1 offset 0x0 pba bar 1 offset 0x800\n/, r.text);
    assert.deepStrictEqual(
      r.warnings.map((w) => [w.line, w.message.split(' not imported: ')[0]]),
      [
        [0, 'device dev_02_00_0: `bar 1 mem32 size 16K at 0xf0100000`'],
        [0, 'device dev_02_00_0: `msix entries 4 table bar 1 offset 0x0 pba bar 1 offset 0x800`'],
      ],
    );
    // A malformed resource line is named in the message; the warning has no line (a line of which file?).
    const broken = importSysfs(tree([{ ...odd, resource: [line(0xf0000000n, 0xf000ffffn, 0x40200n), 'garbage'], config: undefined }]), {});
    assert.deepStrictEqual(broken.warnings.map((w) => [w.line, /resource line 2/.test(w.message)]), [[0, true]]);
  });

  it('says where a 32-bit BAR lies above 4 GiB: starting there, or only ending there', () => {
    const high: FakeDev = { bdf: '0000:04:00.0', resource: [line(0x1_0000_0000n, 0x1_0000_ffffn, 0x40200n), line(0xffff_0000n, 0x1_0000_ffffn, 0x40200n), ...Array<string>(9).fill(ZERO)] };
    const r = importSysfs(tree([high]), {});
    assert.match(r.text, /# BAR 0 is 32-bit but its CPU address 0x100000000 is above 4 GiB/, r.text);
    assert.match(r.text, /# BAR 1 is 32-bit but its CPU range 0xffff0000 \+ 128K ends above 4 GiB/, r.text);
  });

  it('writes a valid file for an empty or missing tree', () => {
    const empty = tree([]);
    const r = importSysfs(empty, {});
    assert.strictEqual(r.devices, 0);
    devices(r.text);
    const missing = importSysfs(path.join(empty, 'nope'), {});
    assert.strictEqual(missing.warnings.length, 1);
    devices(missing.text);
  });

  it('decodes MSI-X BIR and offsets from config space (high offsets, other BAR for the PBA)', () => {
    const c = configWithMsix(256, 0x07ff, 0x00fff002, 0x80000004);
    const r = msixFromConfig(new Uint8Array(c));
    assert.deepStrictEqual(r.msix && [r.msix.entries, r.msix.enabled, r.msix.tableBar, r.msix.tableOffset, r.msix.pbaBar, r.msix.pbaOffset], [
      2048,
      false,
      2,
      0x00fff000n,
      4,
      0x80000000n,
    ]);
    // No capability list bit: nothing, no note.
    const none = Buffer.from(c);
    none.writeUInt16LE(0, 6);
    assert.deepStrictEqual(msixFromConfig(new Uint8Array(none)), {});
    // A looping capability list terminates.
    const loop = Buffer.from(c);
    loop[0x61] = 0x60;
    assert.strictEqual(msixFromConfig(new Uint8Array(loop)).msix, undefined);
  });
});
