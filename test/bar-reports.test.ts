// barReports: one record per memory BAR and per VF BAR. VF records are compact
// (a shared template per VF BAR); these tests pin what each VF's record says.
import * as assert from 'assert';
import { analyze, barReports } from '../server/src/engine/analyze';

// 5 VFs x 16K from 0x2100_0000_0010_0000 on 64K pages: vf0-vf3 share the first page, vf4 is alone in the next.
const TEXT = `host arm {
  page-size 64K
}
device pf at 0004:01:00.0 {
  group 11
  bar 0 mem64 size 1M at 0x2100_0000_0000_0000
  sriov vfs 5 {
    bar 0 mem64 prefetch size 16K at 0x2100_0000_0010_0000
  }
}
guest g {
  assign pf
}
`;

describe('bar reports', () => {
  const a = analyze(TEXT);
  const reports = barReports(a);

  it('lists the PF BAR then every VF of the VF BAR, with ids, addresses and sizes', () => {
    assert.deepStrictEqual(
      reports.map((r) => [r.id, r.vf, r.host, r.size]),
      [
        ['pf.bar0', undefined, 0x2100_0000_0000_0000n, 0x10_0000n],
        ['pf.vf0.bar0', 0, 0x2100_0000_0010_0000n, 0x4000n],
        ['pf.vf1.bar0', 1, 0x2100_0000_0010_4000n, 0x4000n],
        ['pf.vf2.bar0', 2, 0x2100_0000_0010_8000n, 0x4000n],
        ['pf.vf3.bar0', 3, 0x2100_0000_0010_c000n, 0x4000n],
        ['pf.vf4.bar0', 4, 0x2100_0000_0011_0000n, 0x4000n],
      ],
    );
  });

  it('lists BARs in file order: a device\'s BARs written after its sriov block come after the VF BARs', () => {
    const text = 'device a at 00:01.0 {\n  bar 4 mem64 size 4K at 0xc010_0000\n  sriov vfs 2 {\n    bar 2 mem64 size 16K at 0x2_0020_0000\n    bar 0 mem64 size 16K at 0x2_0010_0000\n  }\n  bar 2 mem64 size 1M at 0x2_0000_0000\n  bar 0 mem32 size 4K at 0xc000_0000\n}\n';
    assert.deepStrictEqual(
      barReports(analyze(text)).map((r) => r.id),
      ['a.bar4', 'a.vf0.bar2', 'a.vf1.bar2', 'a.vf0.bar0', 'a.vf1.bar0', 'a.bar2', 'a.bar0'],
    );
  });

  it('gives each VF its own host verdict and reason', () => {
    const vf = reports.filter((r) => r.vf !== undefined);
    assert.deepStrictEqual(
      vf.map((r) => r.hostVerdict),
      ['no-mmap', 'no-mmap', 'no-mmap', 'no-mmap', 'no-mmap'],
    );
    assert.match(vf[0].hostReason, /next VF decodes in the rest of its page/);
    assert.match(vf[1].hostReason, /smaller than a 64K page and starts at offset 0x4000/);
    assert.match(vf[3].hostReason, /offset 0xc000/);
    // The last VF starts a page nothing else uses, but that page runs past the aperture, where vfio-pci cannot reserve it.
    assert.match(vf[4].hostReason, /rest of its page lies past the end of the PF's VF BAR aperture/);
  });

  it('carries the VF BAR statement, kind and prefetch; VFs are never assigned by name', () => {
    const line = TEXT.indexOf('    bar 0 mem64 prefetch size 16K');
    for (const r of reports.filter((x) => x.vf !== undefined)) {
      assert.strictEqual(r.device, 'pf');
      assert.strictEqual(r.index, 0);
      assert.strictEqual(r.kind, 'mem64');
      assert.strictEqual(r.prefetch, true);
      assert.strictEqual(r.guests.size, 0);
      assert.ok(r.span.start >= line && r.span.end <= TEXT.indexOf('\n', line + 1), `${r.id}: span ${r.span.start}-${r.span.end}`);
    }
    // The PF's BAR is placed in the guest that assigns it.
    assert.deepStrictEqual([...reports[0].guests.keys()], ['g']);
  });

  it('caps the VFs listed per device with maxVfs', () => {
    assert.deepStrictEqual(
      barReports(a, { maxVfs: 2 }).map((r) => r.id),
      ['pf.bar0', 'pf.vf0.bar0', 'pf.vf1.bar0'],
    );
  });
});

describe('bar reports of VF BARs the model rejects', () => {
  // Spec section 6: `bars` lists every memory BAR and VF BAR; `host` is absent only for unassigned BARs.
  it('lists the VFs of a VF BAR with an invalid size, as a PF BAR with one is listed: size as written, no-mmap', () => {
    const a = analyze('device a at 01:00.0 {\n  bar 0 mem32 size 3K at 0xf000_0000\n  sriov vfs 2 { bar 0 mem64 size 3K at 0x1_0000_0000 }\n}\n');
    const rs = barReports(a);
    assert.deepStrictEqual(
      rs.map((r) => [r.id, r.size, r.host, r.hostVerdict]),
      [
        ['a.bar0', 3072n, 0xf000_0000n, 'no-mmap'],
        ['a.vf0.bar0', 3072n, 0x1_0000_0000n, 'no-mmap'],
        ['a.vf1.bar0', 3072n, 0x1_0000_0c00n, 'no-mmap'],
      ],
    );
    assert.strictEqual(rs[1].hostReason, 'its size is invalid');
  });

  it('keeps the address of each VF of an aperture that runs past 2^64 while that VF still fits; the others have none', () => {
    // 3 VFs of 4K from 2^64 - 8K: VF 0 and VF 1 fit, VF 2 would start at 2^64.
    const a = analyze('device b at 02:00.0 {\n  sriov vfs 3 { bar 0 mem64 size 4K at 0xffff_ffff_ffff_e000 }\n}\n');
    assert.ok(a.diagnostics.some((d) => d.rule === 'address-overflow'));
    const rs = barReports(a);
    assert.deepStrictEqual(
      rs.map((r) => [r.id, r.host, r.hostVerdict]),
      [
        ['b.vf0.bar0', 0xffff_ffff_ffff_e000n, 'no-mmap'],
        ['b.vf1.bar0', 0xffff_ffff_ffff_f000n, 'no-mmap'],
        ['b.vf2.bar0', undefined, 'no-mmap'],
      ],
    );
    assert.match(rs[0].hostReason, /past the end of the 64-bit address space/);
  });
});

describe('bar reports of two devices declared with one name', () => {
  it('give each device\'s VFs the verdicts of its own aperture', () => {
    // Both named `a` (a duplicate error). The first has 4K VFs on 64K pages (they share pages: no-mmap); the
    // second has 64K VFs (a page each: mmap). Each keeps its own verdicts.
    const text = 'host h {\n  page-size 64K\n}\ndevice a at 01:00.0 {\n  sriov vfs 2 {\n    bar 0 mem64 size 4K at 0x20_0000\n  }\n}\ndevice a at 02:00.0 {\n  sriov vfs 2 {\n    bar 0 mem64 size 64K at 0x80_0000\n  }\n}\n';
    const rs = barReports(analyze(text));
    assert.deepStrictEqual(
      rs.map((r) => [r.id, r.host, r.hostVerdict]),
      [
        ['a.vf0.bar0', 0x20_0000n, 'no-mmap'],
        ['a.vf1.bar0', 0x20_1000n, 'no-mmap'],
        ['a.vf0.bar0', 0x80_0000n, 'mmap'],
        ['a.vf1.bar0', 0x81_0000n, 'mmap'],
      ],
    );
  });
});
