// Adversarial topologies for the benchmark's scaling check: shapes a generator of
// realistic inventories never makes, each of which once made (or could make) some
// part of the engine quadratic. `gen(n)` gives the shape with about n BARs, guests
// or VFs; the bench times n and 4n and reports the growth per element.

export interface Shape {
  name: string;
  what: string;
  gen(n: number): string;
}

const hex = (v: number): string => `0x${v.toString(16)}`;
const pci = (i: number): string => `${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${((i >> 3) & 31).toString(16).padStart(2, '0')}.${i & 7}`;

export const SHAPES: Shape[] = [
  {
    name: 'one guest page',
    what: 'n 4K BARs, all given the same guest address',
    gen(n) {
      let s = 'host h {\n  page-size 64K\n}\n';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  group ${i}\n  bar 0 mem64 size 4K at ${hex(0x1_0000_0000 + i * 0x1000)}\n}\n`;
      s += 'guest g {\n  window 0x2_0000_0000 size 1T\n';
      for (let i = 0; i < n; i++) s += `  assign d${i} { bar 0 at 0x3_0000_0000 }\n`;
      return `${s}}\n`;
    },
  },
  {
    name: 'packed page',
    what: 'n 256-byte BARs of n groups packed 256 to a 64K page, all in one page-match guest',
    gen(n) {
      let s = 'host h {\n  page-size 64K\n}\n';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  group ${i}\n  bar 0 mem32 size 256 at ${hex(0x8000_0000 + i * 0x100)}\n}\n`;
      s += 'guest g {\n  window 0x2_0000_0000 size 1T\n  allocate page-match\n';
      for (let i = 0; i < n; i++) s += `  assign d${i}\n`;
      return `${s}}\n`;
    },
  },
  {
    name: 'one host address',
    what: 'n devices whose BARs all overlap, each with an MSI-X table',
    gen(n) {
      let s = '';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  bar 0 mem64 size 64K at 0x1_0000_0000\n  msix entries 8 table bar 0 offset 0\n}\n`;
      return s;
    },
  },
  {
    name: 'shared device',
    what: 'n guests assigning one device whose hot registers share the MSI-X table page',
    gen(n) {
      let s = 'host h {\n  page-size 64K\n}\ndevice d at 00:00.0 {\n  bar 0 mem64 size 4K at 0x1_0000_1000\n  msix entries 8 table bar 0 offset 0x800\n  region r bar 0 offset 0 size 256 hot\n}\n';
      for (let i = 0; i < n; i++) s += `guest g${i} {\n  window 0x2_0000_0000 size 1G\n  assign d\n}\n`;
      return s;
    },
  },
  {
    name: 'same name',
    what: 'n devices named alike, one guest assigning the name n times',
    gen(n) {
      let s = '';
      for (let i = 0; i < n; i++) s += `device d at ${pci(i)} {\n  bar 0 mem64 size 4K at ${hex(0x1_0000_0000 + i * 0x1000)}\n}\n`;
      s += 'guest g {\n  window 0x2_0000_0000 size 1T\n';
      for (let i = 0; i < n; i++) s += '  assign d\n';
      return `${s}}\n`;
    },
  },
  {
    name: 'long assign block',
    what: 'one assign block listing one BAR n times',
    gen(n) {
      let s = 'device d at 00:00.0 {\n  bar 0 mem32 size 4K at 0x8000_0000\n}\nguest g {\n  window 0x2_0000_0000 size 1T\n  assign d {\n';
      for (let i = 0; i < n; i++) s += `    bar 0 at ${hex(0x2_0000_0000 + i * 0x1000)}\n`;
      return `${s}  }\n}\n`;
    },
  },
  {
    name: 'spanning BARs, one guest page',
    what: 'n 8K BARs on a 4K host, all given the same guest address (each spans two guest pages)',
    gen(n) {
      let s = 'host h {\n  page-size 4K\n}\n';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  bar 0 mem64 size 8K at ${hex(0x1_0000_0000 + i * 0x2000)}\n}\n`;
      s += 'guest g {\n  window 0x2_0000_0000 size 1T\n';
      for (let i = 0; i < n; i++) s += `  assign d${i} { bar 0 at 0x40_0000_0000 }\n`;
      return `${s}}\n`;
    },
  },
  {
    name: 'page-match between fixed BARs',
    what: 'n 4K BARs in one page-match guest, every other one at a fixed guest address in its own page',
    gen(n) {
      let s = 'host h {\n  page-size 64K\n}\n';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  group ${i}\n  bar 0 mem32 size 4K at ${hex(0x8000_0000 + i * 0x10000 + (i % 16) * 0x1000)}\n}\n`;
      s += 'guest g {\n  window 0x200_0000_0000 size 1T\n  allocate page-match\n';
      for (let i = 0; i < n; i++) s += i % 2 ? `  assign d${i} { bar 0 at ${hex(0x200_0000_0000 + i * 0x10000 + (i % 16) * 0x1000)} }\n` : `  assign d${i}\n`;
      return `${s}}\n`;
    },
  },
  {
    name: 'misspelt names',
    what: 'n devices with long similar names, one guest assigning n misspellings of them',
    gen(n) {
      let s = '';
      for (let i = 0; i < n; i++) s += `device storage_controller_${i} at ${pci(i)} {\n  bar 0 mem64 size 64K at ${hex(0x1_0000_0000 + i * 0x10000)}\n}\n`;
      s += 'guest g {\n  window 0x200_0000_0000 size 1T\n';
      for (let i = 0; i < n; i++) s += `  assign storage_controler_${i}\n`;
      return `${s}}\n`;
    },
  },
  {
    name: 'many windows',
    what: 'a host with n windows and n BARs, half of them outside every window',
    gen(n) {
      let s = 'host h {\n';
      for (let i = 0; i < n; i++) s += `  window w${i} ${hex(0x10_0000_0000 + i * 0x100_0000)} size 64K\n`;
      s += '}\n';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  bar 0 mem64 size 4K at ${hex(0x10_0000_0000 + i * 0x100_0000 + (i % 2) * 0x10000)}\n}\n`;
      return s;
    },
  },
  {
    name: 'long labels',
    what: 'n/16 devices with 17,000-character descriptions of one length that differ only at the end (V8 hashes such strings by length alone)',
    gen(n) {
      const pad = 'x'.repeat(17000 - 8);
      let s = '';
      for (let i = 0; i < Math.max(1, n >> 4); i++) s += `device d${i} at ${pci(i)} {\n  name "${pad}${String(i).padStart(8, '0')}"\n  bar 0 mem64 size 64K at ${hex(0x1_0000_0000 + i * 0x10000)}\n}\n`;
      return s;
    },
  },
  {
    name: 'one sub-page address',
    what: 'n devices whose one 2K BAR is at the same page-aligned host address (each shares its page with all the others)',
    gen(n) {
      let s = '';
      for (let i = 0; i < n; i++) s += `device d${i} at ${pci(i)} {\n  bar 0 mem32 size 2K at 0x1000\n}\n`;
      return s;
    },
  },
  {
    name: 'many VFs',
    what: 'one PF with 8n 4K VFs (VF BAR reports)',
    gen(n) {
      return `host h {\n  page-size 64K\n}\ndevice pf at 00:00.0 {\n  bar 0 mem64 size 1M at 0x1_0000_0000\n  sriov vfs ${Math.min(8 * n, 65535)} {\n    bar 0 mem64 size 4K at 0x2_0000_0000\n  }\n}\n`;
    },
  },
];
