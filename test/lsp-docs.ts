// Small .bartopo documents shared by the protocol tests.

/** Spec-like file on a 64K host: subpage-unaligned (ohci1), msix-page-shared (nic), guest-page-conflict (vm0). */
export const NEC = `# NEC USB controller on a POWER host with 64 KiB pages
host power8 {
  page-size 64K
  arch ppc64le
  window mmio32 0x3fe0_8000_0000 size 2G
}

device ohci0 at 0001:00:01.0 {
  group 7
  name "NEC uPD720101 OHCI"
  bar 0 mem32 size 4K at 0x3fe080010000
}
device ohci1 at 0001:00:01.1 {
  group 7
  bar 0 mem32 size 4K at 0x3fe080021000  # second function
}
device nic at 0002:01:00.0 {
  group 9
  bar 0 mem64 prefetch size 32M at 0x3fe0a0000000
  msix entries 64 table bar 0 offset 0x2000 pba bar 0 offset 0x3000
  region doorbells bar 0 offset 0x0 size 8K hot
}

guest vm0 {
  window 0x2000_8000_0000 size 1G
  allocate listed
  assign ohci0
  assign ohci1
  assign nic
}
`;

/** A guest that places a BAR explicitly at the wrong offset (guest-offset-mismatch), and a misaligned host BAR (bar-alignment). */
export const MISMATCH = `host h {
  page-size 64K
}
# the register block
device regs at 00:02.0 {
  group 3
  bar 0 mem32 size 4K at 0x80010000  # keep this comment
}
device gpu at 00:03.0 {
  group 4
  bar 0 mem32 size 16K at 0x80022000
}

guest vm1 {
  # explicit placement
  window 0x100000000 size 1G
  assign regs {
    bar 0 at 0x100001000
  }
}
`;

/** Clean file (no diagnostics). */
export const CLEAN = `host h {
  page-size 4K
}
device a at 00:01.0 {
  group 1
  bar 0 mem64 size 64K at 0x100000000
}
guest g {
  window 0x200000000 size 1G
  assign a
}
`;

/** Garbage inputs: none may crash the server. */
export const GARBAGE: string[] = [
  '\u0000\u0001\u0002 }}}} {{{{ ;;; """ \\\\ \uffff\ud800',
  '{'.repeat(20000),
  '}'.repeat(5000) + 'device',
  'device x at zz:zz.z { bar 99 mem128 size 3 at -1 }\nguest { assign }\nhost host host {\n',
  'bar 0 mem32 size 4K at 0x1000\n'.repeat(300),
  'device a at 00:01.0 { bar 0 mem64 size 0xffffffffffffffffffff at 0xfffffffffffffff0 }',
  '"unterminated\n# comment only\n\r\n\r\r\n' + 'x'.repeat(100000),
  'guest g { window 0xffffffffffffffff size 16E\n assign a { bar 0 at 0x1 ; bar 0 } }\n device a at 1:1.1 { msix entries 99999 table bar 7 offset 0x3 }',
];

/** A realistic large topology: `n` devices with MSI-X, regions and four guests. */
export function bigTopology(n: number): string {
  const L = ['# synthetic topology', 'host h {', '  page-size 64K', '  arch ppc64le', '  window mmio32 0x3fe0_8000_0000 size 2G', '  window mmio64 0x2100_0000_0000 size 1T', '}', ''];
  for (let i = 0; i < n; i++) {
    const base = 0x3fe080000000n + BigInt(i) * 0x20000n;
    const b64 = 0x210000000000n + BigInt(i) * 0x4000000n;
    L.push(`device d${i} at 0001:${(i >> 5).toString(16).padStart(2, '0')}:${(i & 31).toString(16).padStart(2, '0')}.0 {`);
    L.push(`  group ${i}`, `  name "device ${i}"`);
    L.push(`  bar 0 mem32 size 4K at 0x${(base + (i % 3 === 0 ? 0x1000n : 0n)).toString(16)}  # registers`);
    L.push(`  bar 2 mem64 prefetch size 32M at 0x${b64.toString(16)}`);
    L.push('  msix entries 64 table bar 2 offset 0x2000 pba bar 2 offset 0x3000');
    L.push('  region doorbells bar 2 offset 0x0 size 8K hot');
    L.push('}', '');
  }
  for (let g = 0; g < 4; g++) {
    L.push(`guest vm${g} {`, `  window 0x${(0x200080000000n + BigInt(g) * 0x10000000000n).toString(16)} size 512G`, '  allocate listed');
    for (let i = g; i < n; i += 4) L.push(`  assign d${i}`);
    L.push('}', '');
  }
  return L.join('\n');
}
