// One-line descriptions of every rule (SARIF rule metadata, hover, docs).

import { RuleId } from './types';

export const RULE_DOCS_URL = 'https://github.com/bartopo/bartopo/blob/main/docs/rules.md';

export const RULE_SUMMARY: Record<RuleId, string> = {
  syntax: 'The text does not follow the bartopo syntax.',
  'unknown-reference': 'An assign, bar, msix or region statement names a device or BAR that does not exist.',
  duplicate: 'Two devices share a name or PCI address, a BAR index is used twice, or a single-valued statement is repeated.',
  'bar-size': 'A BAR size is not a power of two or is below the minimum (memory 16 bytes, I/O 4 bytes, ROM 2K).',
  'bar-alignment': 'A BAR address is not a multiple of its size.',
  'bar64-slot': 'A 64-bit BAR at index 5 has no slot 6 for its upper half.',
  'bar32-above-4g': 'A 32-bit memory BAR ends above 4 GiB.',
  'bar-overlap': 'Two host resources (BARs, ROMs, VF BAR apertures) decode the same addresses.',
  'bar-outside-window': 'Host windows are declared and a BAR lies outside all of them.',
  'msix-layout': 'The MSI-X table or PBA lies outside its BAR, in an I/O BAR, is misaligned, or they overlap.',
  'guest-overlap': "Two BARs overlap in a guest's physical address space.",
  'guest-window-full': 'The guest allocator cannot fit a BAR in the guest window.',
  'subpage-unaligned': 'A BAR smaller than the host page does not start a page: vfio-pci will not mmap it, every access traps.',
  'subpage-shared': 'A sub-page BAR starts a page but other resources decode in the rest of it: no mmap, every access traps.',
  'page-shared-across-groups': 'One host page holds resources of two IOMMU groups: giving it to a guest breaks isolation.',
  'guest-offset-mismatch': 'A mappable BAR has a different offset inside its page in the guest than on the host: every access traps.',
  'guest-page-conflict': 'A guest page would need two different host pages (or deltas): the BAR that could map traps.',
  'msix-page-shared': 'A declared register region shares a host page with the MSI-X table, and that page traps.',
  'msix-4k-sharing': 'The MSI-X table or PBA shares a naturally aligned 4 KiB range with a declared region (PCIe forbids it).',
  'sriov-vf-subpage': 'A VF BAR is smaller than the host page: VFs cannot be mapped directly or isolated page by page.',
  'bar-unassigned': 'A memory BAR has no host address.',
  'region-outside-bar': 'A register region does not fit inside its BAR.',
  'address-overflow': 'An address plus its size runs past the end of the 64-bit address space.',
  'guest-no-window': 'A guest has BARs to place but no window to place them in.',
  'file-too-large': 'The document is larger than the editor analyses (bartopo.maxFileSizeMB); use the CLI.',
};
