// Guest address space: the three allocation policies, guest overlaps, and the
// per-page guest verdict (can KVM map this host page into the guest?).

import { fitted } from './fitted';
import { OverlayMap } from './overlayMap';
import { HostAnalysis, HostDecision } from './host';
import { Assign, Bar, barAt, Device, Guest, GuestListReuse, guestsNaming, Msix, Region, Topology } from './model';
import { Overrides, Reporter } from './report';
import { Diagnostic, FixTarget, GuestPlacement, Span } from './types';
import { alignUp, flat, formatRange, formatSize, hex, shared, someOf } from './values';

export interface Placed {
  bar: Bar;
  assign: Assign;
  address?: bigint;
  explicit: boolean;
  /** Not placed at all (an `at` address past 2^64). */
  unplaceable?: boolean;
  /** Where to report: the `bar N` line of the assign block, or the assign's device name. */
  span: Span;
}

export interface GuestAnalysis {
  guest: Guest;
  placed: Placed[];
  placements: Map<Bar, GuestPlacement>;
  /** This guest's findings (allocation, overlaps, verdicts), in the order they were found. */
  diagnostics: Diagnostic[];
  /**
   * Where the verdict findings of `placed[i]` start in `diagnostics` (they run to entry i + 1; the
   * findings before entry 0 are the allocation's and the overlaps'): what lets the next version
   * judge again only the BARs an edit concerns (see `rejudge`).
   */
  judged: Uint32Array;
}

/** Sorted, merged set of half-open intervals. */
export class IntervalSet {
  private starts: bigint[] = [];
  private ends: bigint[] = [];

  /** Index of the last interval whose start < x, or -1. */
  private lastBefore(x: bigint): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The interval overlapping [a, b), if any. */
  overlapping(a: bigint, b: bigint): [bigint, bigint] | undefined {
    const i = this.lastBefore(b);
    if (i >= 0 && this.ends[i] > a) return [this.starts[i], this.ends[i]];
    return undefined;
  }

  /** Builds the set from many ranges at once: sort and merge, O(n log n) (repeated `add` would splice). */
  static of(ranges: [bigint, bigint][]): IntervalSet {
    const set = new IntervalSet();
    const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (const [a, b] of sorted) {
      const n = set.starts.length;
      if (n > 0 && set.ends[n - 1] >= a) {
        if (b > set.ends[n - 1]) set.ends[n - 1] = b;
      } else {
        set.starts.push(a);
        set.ends.push(b);
      }
    }
    return set;
  }

  add(a: bigint, b: bigint): void {
    if (b <= a) return;
    const n = this.starts.length;
    // At or after the last interval (ranges added in increasing order): merge with it or append, no splice.
    if (n === 0 || a > this.starts[n - 1]) {
      if (n > 0 && this.ends[n - 1] >= a) {
        if (b > this.ends[n - 1]) this.ends[n - 1] = b;
      } else {
        this.starts.push(a);
        this.ends.push(b);
      }
      return;
    }
    let i = this.lastBefore(a);
    // Merge with the previous interval if it touches.
    if (i >= 0 && this.ends[i] >= a) {
      a = this.starts[i];
      if (this.ends[i] > b) b = this.ends[i];
    } else i++;
    let j = i;
    while (j < this.starts.length && this.starts[j] <= b) {
      if (this.ends[j] > b) b = this.ends[j];
      j++;
    }
    this.starts.splice(i, j - i, a);
    this.ends.splice(i, j - i, b);
  }
}

/**
 * How many BARs the allocator places after `bar` in its walk of guest `g` (`placed`: the guest's placements in
 * placement order). Giving `bar` an explicit address takes it out of the walk, and each of these may move.
 */
export function walkFollowers(g: Guest, placed: Placed[], bar: Bar): number {
  const walk = placed.filter((p) => !p.explicit && !p.unplaceable && p.bar.size !== undefined);
  const i = walk.findIndex((p) => p.bar === bar);
  if (i < 0) return 0;
  if (g.policy !== 'size-descending') return walk.length - 1 - i;
  // Walk order: by size, largest first, then placement order (as `allocate` sorts).
  const size = bar.size!;
  let after = 0;
  walk.forEach((p, k) => {
    const s = p.bar.size!;
    if (s < size || (s === size && k > i)) after++;
  });
  return after;
}

export function placementOrder(g: Guest): Placed[] {
  const out: Placed[] = [];
  for (const a of g.assigns) {
    for (const ab of a.bars) {
      out.push({ bar: ab.bar, assign: a, address: ab.address, explicit: ab.address !== undefined, unplaceable: ab.unplaceable, span: ab.span ?? a.nameSpan });
    }
  }
  return out;
}

/** Places every BAR of the guest that has no explicit address; returns all placements in placement order. */
export function allocate(g: Guest, P: bigint, r: Reporter | undefined): Placed[] {
  const placed = placementOrder(g);
  const guestPageOf = new Map<bigint, bigint>(); // host page -> guest page (page-match)
  const explicitPages = new Set<bigint>(); // the guest pages explicit BARs put their host pages in
  const reserved: [bigint, bigint][] = [];
  for (const p of placed) {
    if (!p.explicit || p.bar.size === undefined) continue;
    reserved.push([p.address!, p.address! + p.bar.size]);
    // page-match: an explicit sub-page BAR puts its host page in a guest page, where its sub-page neighbours
    // follow it; that whole guest page is reserved, as a page the allocator picks is, so that nothing else is
    // placed into the rest of it (over a neighbour, or as another host page's content).
    // Every such page: also that of a BAR without a host address, and that of a second explicit BAR of one host page.
    if (g.policy === 'page-match' && p.bar.size < P) {
      const page = p.address! - (p.address! % P);
      reserved.push([page, page + P]);
      const hp = p.bar.host === undefined ? undefined : p.bar.host / P;
      if (hp !== undefined && !guestPageOf.has(hp)) {
        guestPageOf.set(hp, page);
        explicitPages.add(page);
      }
    }
  }
  // Sorted once (added one by one out of order, each would splice).
  const reservedSet = IntervalSet.of(reserved);
  // What the allocator places, in two lists: BARs placed as under `listed` (from `cursor`) and the guest pages
  // page-match picks (from `freePageFrom`). Each cursor only moves up, so each list is appended to; one set holding
  // them with the reserved ranges would splice its arrays for every BAR placed in a hole between explicit BARs.
  const byCursor = new IntervalSet();
  const byPage = new IntervalSet();
  const used = {
    overlapping: (a: bigint, b: bigint): [bigint, bigint] | undefined => reservedSet.overlapping(a, b) ?? byCursor.overlapping(a, b) ?? byPage.overlapping(a, b),
  };
  let walk = placed.filter((p) => !p.explicit && !p.unplaceable && p.bar.size !== undefined);
  if (walk.length === 0) return placed;
  if (!g.window) {
    // A guest whose `window` statement is invalid (reported on it: address-overflow, size, …) does declare one: no warning that it does not.
    if (g.node.windows.length > 0) return placed;
    r?.add(
      'guest-no-window',
      g.nameSpan,
      `guest ${g.name} has no \`window\`, so ${walk.length === 1 ? walk[0].bar.id + ' has' : walk.length + ' BARs have'} no guest address and cannot be judged. Add \`window ADDR size SIZE\` (where the guest firmware puts PCI BARs) or give each BAR \`at ADDR\` in its assign block.`,
      { subject: g.name, target: { guest: g.name } },
    );
    return placed;
  }
  const wStart = g.window.start;
  const wEnd = g.window.start + g.window.size;
  if (g.policy === 'size-descending') {
    walk = walk.map((p, i) => ({ p, i })).sort((x, y) => (x.p.bar.size! > y.p.bar.size! ? -1 : x.p.bar.size! < y.p.bar.size! ? 1 : x.i - y.i)).map((x) => x.p);
  }
  let cursor = wStart;
  const lowestFit = (from: bigint, size: bigint, align: bigint): bigint | undefined => {
    let addr = alignUp(from, align);
    for (;;) {
      if (addr + size > wEnd) return undefined;
      const o = used.overlapping(addr, addr + size);
      if (!o) return addr;
      addr = alignUp(o[1], align);
    }
  };
  // Where the search for a free guest page starts: the last page found (the space below it only fills up), so all searches together walk the window once.
  let freePageFrom = wStart;
  /** `p` needs `need` bytes aligned to `need` (its size, or a whole page under page-match) and none is left. */
  const full = (p: Placed, need: bigint): void => {
    const first = alignUp(wStart, need);
    // Even an empty window may hold no such range: too small, or starting where the first aligned range runs past its end.
    const why =
      first + need > wEnd
        ? `holds no ${formatSize(need)}-aligned range of ${formatSize(need)}; it gets no guest address. ${need > g.window!.size ? 'Enlarge the window' : `Start the window at a multiple of ${formatSize(need)} (${hex(wStart - (wStart % need))} or ${hex(first)}) or enlarge it`}.`
        : `has no room left for it after the BARs placed or reserved before it; it gets no guest address. Enlarge the window or assign fewer devices.`;
    // Under page-match a sub-page BAR takes a whole guest page: say so, or the size asked for reads as a mistake.
    const whole = need > p.bar.size! ? ` (under \`allocate page-match\` a BAR smaller than a page takes a whole ${formatSize(need)} guest page)` : '';
    r?.add('guest-window-full', p.span, `guest ${g.name}: ${p.bar.id} (${formatSize(p.bar.size!)}) does not fit${whole}: the guest window ${formatRange(wStart, g.window!.size)} ${why}`, {
      subject: p.bar.id,
      target: { device: p.bar.device.name, bar: p.bar.index, guest: g.name },
    });
  };
  for (const p of walk) {
    const size = p.bar.size!;
    const host = p.bar.host;
    if (g.policy === 'page-match' && size < P && host !== undefined) {
      const hp = host / P;
      const off = host % P;
      let gp = guestPageOf.get(hp);
      if (gp === undefined) {
        const at = lowestFit(freePageFrom, P, P);
        if (at === undefined) {
          freePageFrom = wEnd;
          full(p, P);
          continue;
        }
        freePageFrom = at;
        gp = at;
        guestPageOf.set(hp, gp);
        byPage.add(gp, gp + P);
      }
      p.address = gp + off;
      // "The previous BAR's end", for a BAR the allocator placed (in a page it picked, now or for a neighbour): one
      // that follows an explicit BAR into its page is placed by that address, which moves the cursor no more than
      // the explicit BAR does (the page may even be outside the window).
      if (!explicitPages.has(gp)) cursor = p.address + size;
      continue;
    }
    const at = lowestFit(cursor, size, size);
    if (at === undefined) {
      full(p, size);
      continue;
    }
    p.address = at;
    byCursor.add(at, at + size);
    cursor = at + size;
  }
  return placed;
}

/**
 * Places and judges every guest. With `previous` (the guest analyses of an
 * earlier version), a guest is taken over as it was when it is the same guest
 * model (its statement and the devices it names unchanged: see buildTopology)
 * and none of the devices it assigns is in `affected` (devices whose model or
 * host decisions were computed again); a guest that assigns one of those but
 * whose statement was not edited has only some of its BARs judged again
 * (`rejudge`). The result is the same as without `previous`.
 */
export function analyzeGuests(topo: Topology, host: HostAnalysis, overrides: Overrides, previous?: { guests: GuestAnalysis[]; affected: Set<Device> }): GuestAnalysis[] {
  const aligned = previous && alignedGuests(topo, previous.guests);
  if (aligned) {
    // The same guest statements, index for index: only the guests whose model changed or that name an affected
    // device are looked at (found by name), not every guest.
    const out = previous.guests.slice();
    const look = new Set<number>();
    for (let i = 0; i < out.length; i++) if (out[i].guest !== topo.guests[i]) look.add(i);
    for (const d of previous.affected) for (const i of guestsNaming(aligned, d.name)) look.add(i);
    for (const i of look) {
      const g = topo.guests[i];
      const old = previous.guests[i];
      if (old.guest === g && !g.assigns.some((a) => previous.affected.has(a.device))) continue;
      out[i] = analyzeAgain(g, old, topo, host, overrides, previous.affected);
    }
    return out;
  }
  const out: GuestAnalysis[] = [];
  const before = previous ? new Map(previous.guests.map((ga) => [ga.guest, ga])) : undefined;
  const previousByNode = previous ? new Map(previous.guests.map((ga) => [ga.guest.node, ga])) : undefined;
  for (const g of topo.guests) {
    const old = before?.get(g);
    if (old && !g.assigns.some((a) => previous!.affected.has(a.device))) {
      out.push(old);
      continue;
    }
    // The same model with an affected device, or a model rebuilt on the same statement (it names an edited device).
    const prior = old ?? previousByNode?.get(g.node);
    out.push(prior ? analyzeAgain(g, prior, topo, host, overrides, previous!.affected) : analyzeGuest(g, topo, host, overrides));
  }
  return out;
}

/** A guest analysed again from its earlier analysis: judged in part (`rejudge`), or whole with the placement rejudge made. */
function analyzeAgain(g: Guest, prior: GuestAnalysis, topo: Topology, host: HostAnalysis, overrides: Overrides, affected: Set<Device>): GuestAnalysis {
  const again = rejudge(g, prior, topo, host, overrides, affected);
  return again && !('unjudged' in again) ? again : analyzeGuest(g, topo, host, overrides, again?.unjudged);
}

/**
 * The topology's guest-list reuse record when `guests` (an earlier version's analyses) were made from the same
 * guest statements, index for index, and device names are unique (so a guest reaches a device by its name only).
 */
function alignedGuests(topo: Topology, guests: GuestAnalysis[]): GuestListReuse | undefined {
  const reuse = topo.guestReuse;
  if (!reuse || reuse.of !== topo.guests || !topo.reuse || guests.length !== topo.guests.length) return undefined;
  for (let i = 0; i < guests.length; i++) if (guests[i].guest.node !== topo.guests[i].node) return undefined;
  return reuse;
}

/** Places and judges one guest from scratch (`placedQuietly`: its placement, already made, that reported nothing). */
function analyzeGuest(g: Guest, topo: Topology, host: HostAnalysis, overrides: Overrides, placedQuietly?: Placed[]): GuestAnalysis {
  const P = topo.host.pageSize;
  const r = new Reporter(overrides);
  const placed = placedQuietly ?? allocate(g, P, r);
  reportOverlaps(g, placed, r);
  return judgePlaced(g, placed, topo, host, guestPages(placed, P), r);
}

/**
 * Judges the placed BARs in placement order, after what `r` holds (allocation and overlaps), and
 * records where each BAR's findings start. With `reuse`, a BAR not in `again` keeps its previous
 * placement and findings (`rejudge`).
 */
function judgePlaced(g: Guest, placed: Placed[], topo: Topology, host: HostAnalysis, gpages: GuestPages, r: Reporter, reuse?: { old: GuestAnalysis; again: Set<Placed> }): GuestAnalysis {
  const n = placed.length;
  const placements = new Map<Bar, GuestPlacement>();
  const judged = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const p = placed[i];
    judged[i] = r.diagnostics.length;
    if (!reuse || reuse.again.has(p)) {
      placements.set(p.bar, judge(p, g, topo, host, gpages, r));
      continue;
    }
    const old = reuse.old;
    placements.set(p.bar, old.placements.get(old.placed[i].bar)!);
    for (let k = old.judged[i]; k < old.judged[i + 1]; k++) r.diagnostics.push(old.diagnostics[k]);
  }
  judged[n] = r.diagnostics.length;
  return { guest: g, placed, placements, diagnostics: r.diagnostics, judged };
}

/** Guest overlaps: sort and sweep. */
function reportOverlaps(g: Guest, placed: Placed[], r: Reporter): void {
  const sorted = placed.filter((p) => p.address !== undefined && p.bar.size !== undefined).sort((a, b) => (a.address! < b.address! ? -1 : a.address! > b.address! ? 1 : 0));
  let reach: Placed | undefined;
  for (const p of sorted) {
    if (reach && p.address! < reach.address! + reach.bar.size!) {
      const victim = p.explicit || !reach.explicit ? p : reach;
      const other = victim === p ? reach : p;
      r.add(
        'guest-overlap',
        victim.span,
        `guest ${g.name}: ${p.bar.id} ${formatRange(p.address!, p.bar.size!)} overlaps ${reach.bar.id} ${formatRange(reach.address!, reach.bar.size!)} in guest physical address space. Move one of them.`,
        { subject: victim.bar.id, target: { device: victim.bar.device.name, bar: victim.bar.index, guest: g.name }, related: [{ span: other.span, message: `${other.bar.id} in guest ${g.name}` }] },
      );
    }
    if (!reach || p.address! + p.bar.size! > reach.address! + reach.bar.size!) reach = p;
  }
}

/** Guest page buckets: first and last guest page of each placed BAR. */
function guestPages(placed: Placed[], P: bigint): GuestPages {
  const gpages = new GuestPages();
  for (const p of placed) {
    if (p.address === undefined || p.bar.size === undefined) continue;
    const p0 = p.address / P;
    const p1 = (p.address + p.bar.size - 1n) / P;
    gpages.add(p0, p);
    if (p1 !== p0) {
      gpages.add(p1, p);
      gpages.addSpanning(p0, p1, p);
    }
  }
  return gpages;
}

/** Most BARs whose verdict inputs may differ for `rejudge` to take the rest over; beyond, judging all is as cheap. */
const MAX_REJUDGED = 64;

/**
 * The analysis of a guest whose statement an edit did not touch but that assigns an edited or
 * re-decided device (a keystroke in one BAR of a big guest), made from the previous version's
 * analysis of the same statement: the guest is placed again and its overlaps found again, but only
 * the BARs whose verdict can differ are judged again — those whose placement, host address or host
 * decision is not what it was, and those sharing a first or last guest page with one of them (old
 * or new), whose page counts they are in. The others keep their placements and findings. Undefined
 * (judge all) when the placement reports anything; when the BARs are not the same list or too many
 * differ, the placement (which reported nothing) is handed back to be judged whole.
 * `old` is only read: a fix check analyses an edited copy while the current analysis stays.
 */
function rejudge(g: Guest, old: GuestAnalysis, topo: Topology, host: HostAnalysis, overrides: Overrides, affected: Set<Device>): GuestAnalysis | { unjudged: Placed[] } | undefined {
  const was = old.guest;
  if (was.name !== g.name || was.policy !== g.policy || was.msix !== g.msix || was.window?.start !== g.window?.start || was.window?.size !== g.window?.size) return undefined;
  const P = topo.host.pageSize;
  const r = new Reporter(overrides);
  const same = placedAsBefore(g, old);
  const placed = same ?? allocate(g, P, r);
  const n = placed.length;
  if (r.diagnostics.length > 0) return undefined;
  if (n !== old.placed.length) return { unjudged: placed };
  const differs: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = placed[i];
    const q = old.placed[i];
    if (p.bar === q.bar && p.address === q.address && p.span === q.span && p.explicit === q.explicit && p.unplaceable === q.unplaceable && !affected.has(p.bar.device)) continue;
    if (differs.push(i) > MAX_REJUDGED) return { unjudged: placed };
  }
  return judgeDiffering(g, placed, old, differs, topo, host, r, !same);
}

/**
 * A guest's analysis after an edit inside its own block, for a fix check, made from its analysis before the edit
 * (`old`, only read). The guest is placed again; BARs whose placement is the same keep their verdicts and findings,
 * unless the MSI-X mode changed and the BAR holds its device's table, or it shares a first or last guest page with
 * a BAR that moved (as in `rejudge`). Placements are matched by BAR and address, not by where they are written (the
 * edited block's offsets are not the original's): the findings kept carry the original's positions, which a fix
 * check, comparing findings by key, does not read. Judged whole when the policy or window changed (or whether a
 * `window` statement is there at all).
 */
export function analyzeEditedGuest(g: Guest, old: GuestAnalysis, topo: Topology, host: HostAnalysis, overrides: Overrides): GuestAnalysis {
  const was = old.guest;
  // Whether an invalid `window` statement is there decides guest-no-window too (see `allocate`).
  const declares = (x: Guest): boolean => x.node.windows.length > 0;
  if (was.policy !== g.policy || was.window?.start !== g.window?.start || was.window?.size !== g.window?.size || declares(was) !== declares(g)) return analyzeGuest(g, topo, host, overrides);
  const P = topo.host.pageSize;
  const r = new Reporter(overrides);
  const same = placedAsBefore(g, old);
  const placed = same ?? allocate(g, P, r);
  const n = placed.length;
  if (r.diagnostics.length > 0) return analyzeGuest(g, topo, host, overrides);
  if (n !== old.placed.length) return analyzeGuest(g, topo, host, overrides, placed);
  const msixChanged = was.msix !== g.msix;
  const differs: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = placed[i];
    const q = old.placed[i];
    const table = msixChanged && p.bar.device.msix?.tableBar === p.bar.index;
    if (p.bar === q.bar && p.address === q.address && p.explicit === q.explicit && p.unplaceable === q.unplaceable && !table) continue;
    // Up to a quarter of a big guest (an MSI-X mode change re-judges every table BAR): the rest is still worth keeping.
    if (differs.push(i) > MAX_REJUDGED && differs.length > n >> 2) return analyzeGuest(g, topo, host, overrides, placed);
  }
  return judgeDiffering(g, placed, old, differs, topo, host, r, !same);
}

/**
 * The placement of `g` without running the allocator, when it is bound to be `old`'s: under `listed` and
 * `size-descending` the allocator reads only the window, the order, sizes and explicit addresses of the BARs
 * (not their host addresses), so with those as before (and the window and policy, which callers compare), it
 * places every BAR where it placed it then. Only when `old` reported nothing in its placement (no BAR left
 * without room, no overlap), so that this one reports nothing either. Undefined otherwise.
 */
function placedAsBefore(g: Guest, old: GuestAnalysis): Placed[] | undefined {
  if (g.policy === 'page-match' || old.judged[0] !== 0) return undefined;
  const placed = placementOrder(g);
  if (placed.length !== old.placed.length) return undefined;
  for (let i = 0; i < placed.length; i++) {
    const p = placed[i];
    const q = old.placed[i];
    if (p.explicit !== q.explicit || p.unplaceable !== q.unplaceable || p.bar.size !== q.bar.size || (p.explicit && p.address !== q.address)) return undefined;
    if (!p.explicit) p.address = q.address;
  }
  return placed;
}

/**
 * Judges a guest placed again (`placed`, aligned index for index with `old.placed`) after its guest overlaps: the
 * BARs at `differs` and those sharing a first or last guest page with one of them, before or after (their page
 * counts changed), are judged again; the others keep their placements and findings from `old`.
 */
function judgeDiffering(g: Guest, placed: Placed[], old: GuestAnalysis, differs: number[], topo: Topology, host: HostAnalysis, r: Reporter, overlapsAgain: boolean): GuestAnalysis {
  const P = topo.host.pageSize;
  // The same placement as before, which had no overlap: none now.
  if (overlapsAgain) reportOverlaps(g, placed, r);
  const gpages = guestPages(placed, P);
  // The pages whose counts changed: first and last guest page of each differing BAR, before and after.
  const touched = new Set<bigint>();
  const edges = (address: bigint | undefined, size: bigint | undefined): void => {
    if (address === undefined || size === undefined) return;
    touched.add(address / P);
    touched.add((address + size - 1n) / P);
  };
  const again = new Set<Placed>();
  for (const i of differs) {
    again.add(placed[i]);
    edges(placed[i].address, placed[i].bar.size);
    edges(old.placed[i].address, old.placed[i].bar.size);
  }
  for (const pg of touched) for (const p of gpages.get(pg) ?? []) again.add(p);
  return judgePlaced(g, placed, topo, host, gpages, r, { old, again });
}

function hostPages(start: bigint, size: bigint, P: bigint): bigint {
  return (start + size - 1n) / P - start / P + 1n;
}

/** Guest pages of at most this many BARs are counted by a scan, not through a kept map of deltas. */
const SCANNED_BUCKET = 4;

/** Most BARs a guest-page-conflict names (three in the message, eight as related locations). */
const MAX_NAMED = 8;

/** The placed BARs by guest page (first and last page of each), and per page how many map it with each guest−host delta. */
class GuestPages {
  private readonly byPage = new Map<bigint, Placed[]>();
  private readonly deltas = new Map<bigint, Map<bigint, number>>();

  add(pg: bigint, p: Placed): void {
    const l = this.byPage.get(pg);
    if (l) l.push(p);
    else this.byPage.set(pg, [p]);
  }

  get(pg: bigint): Placed[] | undefined {
    return this.byPage.get(pg);
  }

  /**
   * BARs whose first guest page is `first` and last `last` (> first): the ones in both those pages' lists, by
   * first page and then last page (keys built from the two bigints would cost two decimal conversions per BAR).
   */
  private readonly spanning = new Map<bigint, Map<bigint, Placed[]>>();
  private readonly spanningDeltas = new Map<Placed[], Map<bigint, number>>();

  addSpanning(first: bigint, last: bigint, p: Placed): void {
    let byLast = this.spanning.get(first);
    if (!byLast) this.spanning.set(first, (byLast = new Map()));
    const l = byLast.get(last);
    if (l) l.push(p);
    else byLast.set(last, [p]);
  }

  /** Of the BARs in both `first`'s and `last`'s lists: how many there are, and how many with host address `delta` below guest address. */
  inBoth(first: bigint, last: bigint, delta: bigint): { all: number; sameDelta: number } {
    const l = this.spanning.get(first)?.get(last);
    if (!l) return { all: 0, sameDelta: 0 };
    let m = this.spanningDeltas.get(l);
    if (!m) this.spanningDeltas.set(l, (m = countDeltas(l)));
    return { all: l.length, sameDelta: m.get(delta) ?? 0 };
  }

  /** How many BARs in guest page `pg` have a host address at `delta` below their guest address (counted once per page). */
  sameDelta(pg: bigint, delta: bigint): number {
    const l = this.byPage.get(pg);
    if (!l) return 0;
    if (l.length <= SCANNED_BUCKET) {
      // A page of a few BARs (most pages): counted in place, no map of deltas kept for it.
      let n = 0;
      for (const q of l) if (q.bar.host !== undefined && q.address! - q.bar.host === delta) n++;
      return n;
    }
    let m = this.deltas.get(pg);
    if (!m) this.deltas.set(pg, (m = countDeltas(l)));
    return m.get(delta) ?? 0;
  }
}

/** How many of `l` have each guest−host delta (BARs without a host address have none). */
function countDeltas(l: Placed[]): Map<bigint, number> {
  const m = new Map<bigint, number>();
  for (const q of l) {
    if (q.bar.host === undefined) continue;
    const d = q.address! - q.bar.host;
    m.set(d, (m.get(d) ?? 0) + 1);
  }
  return m;
}

// Messages of the guest rules with thousands of findings in a big topology, built when read (see
// `MessageText` in report.ts). Each takes only the values its text is made of (immutable ones: the
// models they come from are kept across versions), so a finding keeps a few values instead of its text.

function offsetMismatchMessage(guest: string, id: string, index: number, address: bigint, host: bigint, size: bigint, P: bigint, explicit: boolean, pageMatch: boolean): () => string {
  return () => {
    const gOff = address % P;
    const hOff = host % P;
    // The allocator never moves a BAR with an explicit address (under any policy), and under `allocate page-match`
    // it gives every BAR it places its host offset: so the advice depends on which of the two put it here. A BAR of a
    // page or more off a page boundary on the host is misaligned there (a bar-alignment error): that is what to fix.
    const todo = size >= P && hOff !== 0n
      ? `Its host address is not aligned to its size (bar-alignment): align it first (a BAR of a page or more then starts a host page, at offset 0x0).`
      : explicit
      ? `Change its \`at\` to a guest address with offset ${hex(hOff)} in its page, or drop the \`at\`${pageMatch ? ' so that `allocate page-match` places it' : ' and use `allocate page-match`'} (an explicit address is never moved by the allocator).`
      : `Use \`allocate page-match\` in guest ${guest} (it puts each BAR it places at its host offset), or give it an explicit guest address with offset ${hex(hOff)} (\`bar ${index} at ADDR\` in its assign block).`;
    return `guest ${guest}: ${id} is at guest ${hex(address)}, offset ${hex(gOff)} in its ${formatSize(P)} page, but at host ${hex(host)}, offset ${hex(hOff)}: KVM maps whole host pages, so the offsets must match or every access traps to the VMM. ${todo}`;
  };
}

function pageConflictMessage(guest: string, id: string, guestPage: bigint, hostPage: bigint, P: bigint, names: string, one: boolean, explicit: boolean, pageMatch: boolean): () => string {
  return () => {
    // `allocate page-match` gives each host page a guest page of its own, but moves no BAR with an explicit address.
    const todo = explicit
      ? `Give it a guest page of its own: change its \`at\` (an explicit address is never moved by the allocator)${pageMatch ? ', or drop it so that `allocate page-match` places it' : ''}.`
      : pageMatch
        ? `Move the explicit guest address${one ? '' : 'es'} that put${one ? 's' : ''} ${one ? 'it' : 'them'} in this page: \`allocate page-match\` does not move ${one ? 'it' : 'them'}.`
        : `Give it a guest page of its own (\`allocate page-match\` in guest ${guest}).`;
    return `guest ${guest}: ${id} needs guest page ${hex(guestPage)} to map host page ${hex(hostPage)}, but that ${formatSize(P)} guest page also holds ${names}, which come${one ? 's' : ''} from another host page or offset: one guest page maps one host page, so ${id} traps. ${todo}`;
  };
}

function msixPageMessage(device: string, reg: Region, m: Msix, page: bigint, P: bigint, why: string, where: string, mappable: boolean, inTablePages?: { offset: bigint; size: bigint }): () => string {
  // Without `msix-mappable`, relocating the table in the guest does not let the host map its page: only moving the registers (or a kernel that maps the table page) helps.
  const todo = mappable
    ? 'Relocate the table (`msix relocate`, QEMU x-msix-relocation) or move the registers to another page.'
    : 'Move the registers to another page of the BAR (`msix relocate` cannot help while the host does not map the table page; Linux 4.16 and later does, with `msix-mappable yes`).';
  return () =>
    `${device}: ${reg.hot ? 'hot ' : ''}region ${reg.name} (bar${reg.bar} ${formatRange(reg.offset, reg.size)}) shares host page ${hex(page)} (${formatSize(P)}) with the MSI-X table (bar${m.tableBar} ${formatRange(m.tableOffset, m.tableSize)}): ${why}, so that whole page traps ${where}, and ${
      inTablePages ? `every access to the part of ${reg.name} in the table's page${m.tableSize > P ? 's' : ''} (bar${reg.bar} ${formatRange(inTablePages.offset, inTablePages.size)})` : `every access to ${reg.name}`
    } exits to the VMM. ${todo}`;
}

/** The reasons of a BAR trapped because the host does not mmap it, per host decision (most decisions are shared, and so is this list). */
const notMappedReasons = new WeakMap<HostDecision, string[]>();
function notMappedReasonList(dec: HostDecision): string[] {
  let l = notMappedReasons.get(dec);
  if (l === undefined) notMappedReasons.set(dec, (l = Object.freeze([flat(`the host does not mmap it: ${dec.reason}`)]) as string[]));
  return l;
}

/** Guest verdict of one BAR in one guest, page by page; reports the guest-side rules. */
function judge(p: Placed, g: Guest, topo: Topology, host: HostAnalysis, gpages: GuestPages, r: Reporter): GuestPlacement {
  const P = topo.host.pageSize;
  const b = p.bar;
  const size = b.size;
  const total = shared(size === undefined ? 1n : b.host !== undefined ? hostPages(b.host, size, P) : (size + P - 1n) / P);
  const trapped = (reason: string | string[]): GuestPlacement => ({ address: p.address, verdict: 'trapped', directPages: 0n, totalPages: total, reasons: typeof reason === 'string' ? [reason] : reason });
  if (p.address === undefined || size === undefined) return trapped('it has no guest address');
  const dec = host.decisions.get(b)!;
  if (dec.verdict === 'no-mmap' || b.host === undefined) return trapped(notMappedReasonList(dec));
  const hOff = b.host % P;
  const gOff = p.address % P;
  const target = (): FixTarget => ({ device: b.device.name, bar: b.index, guest: g.name });
  if (hOff !== gOff) {
    r.add('guest-offset-mismatch', p.span, offsetMismatchMessage(g.name, b.id, b.index, p.address, b.host, size, P, p.explicit, g.policy === 'page-match'), { subject: b.id, target: target() });
    return trapped(flat(`its guest offset ${hex(gOff)} differs from its host offset ${hex(hOff)} in the ${formatSize(P)} page`));
  }
  const delta = p.address - b.host;
  let blocked: Set<bigint> | undefined; // host page numbers that trap (most BARs have none)
  const reasons: string[] = [];
  const m = b.device.msix;
  if (m && m.tableValid && m.tableBar === b.index && (g.msix === 'emulate' || !topo.host.msixMappable)) {
    const t0 = (b.host + m.tableOffset) / P;
    const t1 = (b.host + m.tableOffset + m.tableSize - 1n) / P;
    blocked = new Set();
    for (let pg = t0; pg <= t1; pg++) blocked.add(pg);
    // One page: its address; several: their range.
    const pages = t1 > t0 ? `pages holding the MSI-X table (${formatRange(t0 * P, (t1 - t0 + 1n) * P)})` : `page holding the MSI-X table (${hex(t0 * P)})`;
    reasons.push(
      flat(
        g.msix === 'emulate'
          ? `the ${pages} trap${t1 > t0 ? '' : 's'}: the VMM emulates the table (guest msix emulate)`
          : `the ${pages} ${t1 > t0 ? 'are' : 'is'} not mmappable (host msix-mappable no)`,
      ),
    );
  }
  // Guest pages at the BAR's edges: anything else there from another host page or delta blocks the mapping.
  // `conflicts` keeps the first few (for the message), `conflicting` counts them all.
  const conflicts: Placed[] = [];
  let conflicting = 0;
  const gp0 = p.address / P;
  let conflictPage = gp0; // the guest page the message names: the first with a conflict
  const gp1 = (p.address + size - 1n) / P;
  const conflictsWith = (q: Placed): boolean => q !== p && (q.bar.host === undefined || q.address! - q.bar.host !== delta);
  if (gp1 === gp0) {
    // One page: counted from the page's deltas (p is among those with its own), so a page shared by
    // thousands of BARs costs each of them only the few it names.
    const bucket = gpages.get(gp0) ?? [];
    conflicting = bucket.length - gpages.sameDelta(gp0, delta);
    if (conflicting > 0) {
      (blocked ??= new Set()).add(gp0 - delta / P);
      for (const q of bucket) {
        if (conflicts.length === MAX_NAMED) break;
        if (conflictsWith(q)) conflicts.push(q);
      }
    }
  } else {
    // First and last page, counted the same way; a BAR in both lists (it spans exactly those pages) counts once.
    const both = gpages.inBoth(gp0, gp1, delta);
    const seen = new Set<Placed>();
    for (const gp of [gp0, gp1]) {
      const bucket = gpages.get(gp) ?? [];
      const here = bucket.length - gpages.sameDelta(gp, delta);
      if (here === 0) continue;
      if (conflicting === 0) conflictPage = gp;
      (blocked ??= new Set()).add(gp - delta / P);
      for (const q of bucket) {
        if (conflicts.length === MAX_NAMED) break;
        if (!conflictsWith(q) || seen.has(q)) continue;
        seen.add(q);
        conflicts.push(q);
      }
      conflicting += here;
    }
    conflicting -= both.all - both.sameDelta;
  }
  if (conflicting > 0) {
    const names = someOf(conflicts, (q) => `${q.bar.id} at ${hex(q.address!)}`, 3, conflicting);
    reasons.push(flat(`its guest page also holds ${names}, from another host page or offset`));
    r.add('guest-page-conflict', p.span, pageConflictMessage(g.name, b.id, conflictPage * P, (conflictPage - delta / P) * P, P, names, conflicting === 1, p.explicit, g.policy === 'page-match'), {
      subject: b.id,
      target: target(),
      // Where the other BAR's placement is written; when that is this BAR's own assign (two BARs of one device
      // placed by the allocator), the other BAR's declaration instead (a link to where the diagnostic already is helps nobody).
      related: conflicts.map((q) => ({
        span: q.span.start === p.span.start && q.span.end === p.span.end ? q.bar.span : q.span,
        message: `${q.bar.id} at ${hex(q.address!)}, in the same guest page`,
      })),
    });
  }
  const direct = blocked ? total - BigInt(blocked.size) : total;
  return {
    address: p.address,
    verdict: direct === total ? 'direct' : direct <= 0n ? 'trapped' : 'partial',
    directPages: direct < 0n ? 0n : shared(direct),
    totalPages: total,
    reasons: fitted(reasons),
  };
}

/** The names of the devices a guest assigns, per guest model (models outlive versions, so this is computed once per guest statement). */
const assignedNames = new WeakMap<Guest, Set<string>>();
function namesAssignedIn(g: Guest): Set<string> {
  let s = assignedNames.get(g);
  if (!s) assignedNames.set(g, (s = new Set(g.assigns.map((a) => a.device.name))));
  return s;
}

/**
 * The names of the devices whose msix-page-shared findings can differ between
 * two versions' guest lists (besides devices that changed themselves): a
 * device's findings read only which guests assign it, their order and their
 * `msix` modes. A guest model rebuilt with the same assigned names and mode
 * changes nothing.
 */
export function msixRedoNames(before: Guest[], after: Guest[]): Set<string> {
  const names = new Set<string>();
  const all = (g: Guest): void => {
    for (const n of namesAssignedIn(g)) names.add(n);
  };
  if (before.length !== after.length || after.some((g, i) => g.name !== before[i].name)) {
    // Guests came, went or moved: every device the new and the gone models assign.
    const was = new Set(before);
    const is = new Set(after);
    for (const g of after) if (!was.has(g)) all(g);
    for (const g of before) if (!is.has(g)) all(g);
    return names;
  }
  after.forEach((g, i) => {
    const old = before[i];
    if (old === g) return;
    if (old.msix !== g.msix) {
      all(old);
      all(g);
      return;
    }
    // The same device names in the same order (a guest patched for an edited device, a fix check's model of an edited
    // block): nothing to compare as sets.
    if (old.assigns.length === g.assigns.length && old.assigns.every((x, k) => x.device.name === g.assigns[k].device.name)) return;
    const a = namesAssignedIn(old);
    const b = namesAssignedIn(g);
    for (const n of a) if (!b.has(n)) names.add(n);
    for (const n of b) if (!a.has(n)) names.add(n);
  });
  return names;
}

/** What `checkMsixPages` takes over from an earlier version. */
export interface MsixPagesBefore {
  findings: Map<Device, Diagnostic[]>;
  /** The devices to check again (the others keep their findings), and the devices no longer there. */
  redo: Iterable<Device>;
  removed: Iterable<Device>;
  /** Whether `findings` may be updated in place (else an overlay on it is). */
  consume: boolean;
}

/**
 * msix-page-shared: a region shares a host page with the MSI-X table, and that
 * page traps. Per device: with `previous` (an earlier version's findings), only
 * the devices in `redo` are checked again, the others' findings taken over, so
 * the work is O(redo × guests), not O(devices).
 */
export function checkMsixPages(topo: Topology, host: HostAnalysis, guests: GuestAnalysis[], overrides: Overrides, previous?: MsixPagesBefore): Map<Device, Diagnostic[]> {
  const P = topo.host.pageSize;
  let assignedIn: Map<string, Guest[]> | undefined;
  // The guests that assign a device (by name), each once: from one map when every device is checked, else guest by guest.
  // With the guests' statements indexed by the names they use (and `guests` the analyses of the topology's own
  // guest list), the guests naming a device are looked up, not found by a pass over every guest.
  const reuse = previous && topo.guestReuse?.of === topo.guests && topo.reuse && guests.length === topo.guests.length && guests.every((ga, i) => ga.guest === topo.guests[i]) ? topo.guestReuse : undefined;
  const guestsOf = (name: string): Guest[] | undefined => {
    if (reuse) {
      const l = guestsNaming(reuse, name)
        .map((i) => guests[i].guest)
        .filter((g) => namesAssignedIn(g).has(name));
      return l.length > 0 ? l : undefined;
    }
    if (previous) {
      const l = guests.filter((ga) => namesAssignedIn(ga.guest).has(name)).map((ga) => ga.guest);
      return l.length > 0 ? l : undefined;
    }
    if (!assignedIn) {
      assignedIn = new Map();
      for (const ga of guests) {
        for (const a of ga.guest.assigns) {
          const l = assignedIn.get(a.device.name);
          if (!l) assignedIn.set(a.device.name, [ga.guest]);
          else if (l[l.length - 1] !== ga.guest) l.push(ga.guest);
        }
      }
    }
    return assignedIn.get(name);
  };
  const out = !previous ? new Map<Device, Diagnostic[]>() : previous.consume ? previous.findings : new OverlayMap(previous.findings);
  if (previous) for (const d of previous.removed) out.delete(d);
  for (const d of previous ? previous.redo : topo.devices) {
    out.delete(d);
    const m = d.msix;
    if (!m || !m.tableValid || d.regions.length === 0) continue;
    const r = new Reporter(overrides);
    const tb = barAt(d, m.tableBar);
    if (tb?.host === undefined) continue;
    const t0 = (tb.host + m.tableOffset) / P;
    const t1 = (tb.host + m.tableOffset + m.tableSize - 1n) / P;
    const gs = guestsOf(d.name);
    const trapIn = gs ? gs.filter((g) => g.msix === 'emulate' || !topo.host.msixMappable).map((g) => g.name) : [];
    if (gs && trapIn.length === 0) continue;
    for (const reg of d.regions) {
      if (!reg.valid) continue;
      const rb = barAt(d, reg.bar);
      if (rb?.host === undefined) continue;
      // A BAR the host does not mmap traps whole, table or not: its own finding (subpage-unaligned, …) says why,
      // and relocating the table would not map these registers.
      if (host.decisions.get(rb)?.verdict === 'no-mmap') continue;
      const r0 = (rb.host + reg.offset) / P;
      const r1 = (rb.host + reg.offset + reg.size - 1n) / P;
      if (r1 < t0 || t1 < r0) continue;
      const page = (r0 > t0 ? r0 : t0) * P;
      // A region reaching past the table's pages traps only in them: the part of it there, as offsets in its BAR.
      let inTablePages: { offset: bigint; size: bigint } | undefined;
      if (r0 < t0 || r1 > t1) {
        const from = (r0 > t0 ? r0 : t0) * P;
        const to = ((r1 < t1 ? r1 : t1) + 1n) * P;
        const a = rb.host + reg.offset > from ? rb.host + reg.offset : from;
        const b = rb.host + reg.offset + reg.size < to ? rb.host + reg.offset + reg.size : to;
        inTablePages = { offset: a - rb.host, size: b - a };
      }
      const where = gs ? `in guest${trapIn.length > 1 ? 's' : ''} ${someOf(trapIn, (n) => n)}` : 'in any guest under the default `msix emulate`';
      const why = !topo.host.msixMappable ? 'the host kernel does not let user space map the table page (msix-mappable no)' : 'the VMM emulates the MSI-X table';
      r.add('msix-page-shared', reg.span, msixPageMessage(d.name, reg, m, page, P, why, where, topo.host.msixMappable, inTablePages), {
        subject: `${d.name}.${reg.name}`,
        severity: reg.hot ? 'warning' : 'info',
        target: { device: d.name, region: reg.name },
        related: [{ span: m.span, message: `MSI-X table of ${d.name}` }],
      });
    }
    if (r.diagnostics.length > 0) out.set(d, r.diagnostics);
  }
  return out;
}

/** The findings of `checkMsixPages`, in the order its map holds them (see `hostDiagnostics` on why the final sort makes that device order). */
export function msixPageDiagnostics(findings: Map<Device, Diagnostic[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const l of findings.values()) for (const x of l) out.push(x);
  return out;
}
