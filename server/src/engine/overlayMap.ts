// A map that reads through to a base map and never modifies it: sets and
// deletes land in the overlay. An analysis of an edited copy (fix
// verification) takes over the previous analysis's large maps this way
// instead of copying them (a copy of a 10,000-entry map keyed by bigint costs
// more than the rest of the incremental update).

export class OverlayMap<K, V> extends Map<K, V> {
  private readonly deleted = new Set<K>();
  /** Whether `undefined` was ever set as a value: until then a read needs no `has` to tell a miss from it. */
  private storesUndefined = false;

  constructor(private readonly base: ReadonlyMap<K, V>) {
    super();
  }

  /** Whether the base's entry for `k` (a key of the base) shows through. */
  private inBase(k: K): boolean {
    return !super.has(k) && (this.deleted.size === 0 || !this.deleted.has(k));
  }

  // Most reads are of entries the overlay took over untouched: one lookup in the overlay, one in the base.
  override get(k: K): V | undefined {
    const v = super.get(k);
    if (v !== undefined || (this.storesUndefined && super.has(k))) return v;
    return this.deleted.size !== 0 && this.deleted.has(k) ? undefined : this.base.get(k);
  }

  override has(k: K): boolean {
    return super.has(k) || (!this.deleted.has(k) && this.base.has(k));
  }

  override set(k: K, v: V): this {
    if (v === undefined) this.storesUndefined = true;
    if (this.deleted.size !== 0) this.deleted.delete(k);
    super.set(k, v);
    return this;
  }

  override delete(k: K): boolean {
    const had = this.has(k);
    super.delete(k);
    if (this.base.has(k)) this.deleted.add(k);
    return had;
  }

  override clear(): void {
    super.clear();
    for (const k of this.base.keys()) this.deleted.add(k);
  }

  override get size(): number {
    let n = super.size;
    for (const k of this.base.keys()) if (this.inBase(k)) n++;
    return n;
  }

  /** Entries of the base that are still visible, then the overlay's own. */
  override *entries(): MapIterator<[K, V]> {
    for (const e of this.base) if (this.inBase(e[0])) yield e;
    yield* super.entries();
  }

  override *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  override *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override forEach(f: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) f.call(thisArg, v, k, this);
  }
}
